// The report's summaries of `findDuplicates`' decisions: clusters of near-duplicates and a sample of dropped pairs.
// Internal to `dedup` (not re-exported by the package).

/**
 * Groups of documents joined by "dropped because of" links (connected components with at least two
 * documents): how many, how many documents they hold, the largest, and how many of each size.
 */
export interface DuplicateClusters {
  count: number;
  documents: number;
  largest: number;
  sizes: Record<string, number>;
}

/**
 * Up to `size` dropped documents with their near-duplicate, chosen uniformly but deterministically
 * (the smallest hashes of the document index mixed with the seed), in document order.
 */
export function chooseSample(duplicateOf: Int32Array, size: number, seed: number): Array<[number, number]> {
  const dropped: number[] = [];
  duplicateOf.forEach((other, document) => {
    if (other !== -1) {
      dropped.push(document);
    }
  });
  if (size <= 0 || dropped.length === 0) {
    return [];
  }
  const rank = (document: number) => {
    let h = Math.imul(document ^ seed ^ 0x9e3779b9, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const ranks = Uint32Array.from(dropped, rank).sort();
  const cutoff = ranks[Math.min(size, ranks.length) - 1] as number;
  return dropped
    .filter((document) => rank(document) <= cutoff)
    .slice(0, size)
    .map((document): [number, number] => [document, duplicateOf[document] as number]);
}

/** Connected components of the "dropped because of" links with two or more documents. */
export function clusterStats(duplicateOf: Int32Array): DuplicateClusters {
  const parent = Int32Array.from({ length: duplicateOf.length }, (_, i) => i);
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) {
      root = parent[root] as number;
    }
    for (let node = x; parent[node] !== root;) {
      const up = parent[node] as number;
      parent[node] = root;
      node = up;
    }
    return root;
  };
  duplicateOf.forEach((other, document) => {
    if (other !== -1) {
      parent[find(document)] = find(other);
    }
  });
  const sizesByRoot = new Map<number, number>();
  duplicateOf.forEach((other, document) => {
    if (other !== -1) {
      sizesByRoot.set(find(document), 0);
    }
  });
  for (let document = 0; document < duplicateOf.length; document++) {
    const root = find(document);
    const size = sizesByRoot.get(root);
    if (size !== undefined) {
      sizesByRoot.set(root, size + 1);
    }
  }
  const sizes: Record<string, number> = {};
  let documents = 0;
  let largest = 0;
  for (const size of sizesByRoot.values()) {
    sizes[size] = (sizes[size] ?? 0) + 1;
    documents += size;
    largest = Math.max(largest, size);
  }
  return { count: sizesByRoot.size, documents, largest, sizes };
}
