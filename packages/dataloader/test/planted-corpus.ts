// A synthetic corpus with planted near-duplicates: random "originals", and copies of some of them with a
// controlled number of word edits (substitutions, insertions, deletions), shuffled together.
import { RandomState } from "../src/numpy-random-state.js";
import { wordShingles } from "../src/word-shingles.js";

/** Parameters of `plantedCorpus`. */
export interface PlantedCorpusParams {
  seed: number;
  /** Originals with this many copies each: e.g. [100, 300, 50] = 100 without a copy, 300 with one, 50 with two. */
  originalsByCopies: number[];
  wordsPerDocument: number;
  /** Each copy gets a uniform number of edits in [0, maxEdits]. */
  maxEdits: number;
  /** Words of the originals are drawn from this many. @default 5000 */
  vocabulary?: number;
}

/** Documents in shuffled order, and where each copy came from. */
export interface PlantedCorpus {
  texts: string[];
  /** For each planted copy: the document index of its original and of the copy, and the edits made. */
  plants: Array<{ original: number; copy: number; edits: number }>;
}

/** Builds the corpus (deterministic for the seed). */
export function plantedCorpus(params: PlantedCorpusParams): PlantedCorpus {
  const random = new RandomState(params.seed);
  const vocabulary = params.vocabulary ?? 5000;
  const word = () => `w${random.randomInterval(vocabulary - 1)}`;
  const documents: string[][] = [];
  const copies: Array<{ original: number; copy: number; edits: number }> = [];
  params.originalsByCopies.forEach((originals, copyCount) => {
    for (let o = 0; o < originals; o++) {
      const words = Array.from({ length: params.wordsPerDocument }, word);
      const original = documents.length;
      documents.push(words);
      for (let c = 0; c < copyCount; c++) {
        const edits = random.randomInterval(params.maxEdits);
        const copy = words.slice();
        for (let e = 0; e < edits; e++) {
          const at = random.randomInterval(copy.length - 1);
          const fresh = `edit${random.randomInterval(1_000_000)}`;
          const kind = random.randomInterval(2);
          if (kind === 0) {
            copy[at] = fresh;
          } else if (kind === 1) {
            copy.splice(at, 0, fresh);
          } else {
            copy.splice(at, 1);
          }
        }
        copies.push({ original, copy: documents.length, edits });
        documents.push(copy);
      }
    }
  });
  const order = random.permutation(documents.length);
  const position = new Int32Array(documents.length);
  order.forEach((from, to) => {
    position[from] = to;
  });
  const texts = Array.from(order, (from) => (documents[from] as string[]).join(" "));
  return {
    texts,
    plants: copies.map((plant) => ({
      original: position[plant.original] as number,
      copy: position[plant.copy] as number,
      edits: plant.edits,
    })),
  };
}

/** Exact Jaccard of every pair of documents' shingle sets with a value above `floor` (brute force over all pairs). */
export function bruteForceJaccard(
  texts: readonly string[],
  shingleSize: number,
  floor: number,
): Map<string, number> {
  const ids = new Map<string, number>();
  const sets = texts.map((text) =>
    Int32Array.from(wordShingles(text, shingleSize), (shingle) => {
      let id = ids.get(shingle);
      if (id === undefined) {
        id = ids.size;
        ids.set(shingle, id);
      }
      return id;
    }).sort(),
  );
  const result = new Map<string, number>();
  for (let a = 0; a < sets.length; a++) {
    const x = sets[a] as Int32Array;
    for (let b = a + 1; b < sets.length; b++) {
      const y = sets[b] as Int32Array;
      let i = 0;
      let j = 0;
      let shared = 0;
      while (i < x.length && j < y.length) {
        const u = x[i] as number;
        const v = y[j] as number;
        if (u === v) {
          shared++;
          i++;
          j++;
        } else if (u < v) {
          i++;
        } else {
          j++;
        }
      }
      const jaccard = x.length + y.length === 0 ? 1 : shared / (x.length + y.length - shared);
      if (jaccard > floor) {
        result.set(`${a},${b}`, jaccard);
      }
    }
  }
  return result;
}
