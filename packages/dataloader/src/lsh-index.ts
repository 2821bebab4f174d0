/**
 * LSH banding over stored MinHash signatures: band `k` hashes signature values
 * `[k·rows, (k+1)·rows)` to a 32-bit key; documents with an equal key in some band are candidates.
 * One open-addressing table per band maps a key to the last document inserted with it, and a
 * per-band `next` array chains the earlier ones (no per-document objects: about
 * `bands · (4 + 2 · 8)` bytes per document). A 32-bit key can collide by chance; that only adds a
 * candidate, which verification rejects.
 */
import { DataloaderError } from "./errors.js";
import type { SignatureStore } from "./signature-store.js";

/** Parameters of `LshIndex`. */
export interface LshIndexParams {
  bands: number;
  rows: number;
  /** The largest document index + 1 that will be inserted. */
  capacity: number;
  /** Signature length; `bands · rows` must not exceed it. */
  numPerm: number;
}

/** A banded LSH index of document signatures. */
export class LshIndex {
  readonly bands: number;
  readonly rows: number;
  private readonly capacity: number;
  private readonly tableSize: number;
  // One array per band (a single one would pass the typed-array length limit on large corpora).
  private readonly keys: Uint32Array[];
  private readonly heads: Int32Array[];
  private readonly next: Int32Array[];
  private readonly bandKeys: Uint32Array;

  constructor(params: LshIndexParams) {
    const { bands, rows, capacity, numPerm } = params;
    if (
      !Number.isInteger(bands) ||
      !Number.isInteger(rows) ||
      bands < 1 ||
      rows < 1 ||
      bands * rows > numPerm
    ) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `LSH needs bands x rows <= numPerm (${numPerm}) with both positive integers, got ${bands} x ${rows}`,
      );
    }
    this.bands = bands;
    this.rows = rows;
    this.capacity = capacity;
    let size = 16;
    while (size < capacity * 2) {
      size *= 2;
    }
    this.tableSize = size;
    this.keys = Array.from({ length: bands }, () => new Uint32Array(size));
    this.heads = Array.from({ length: bands }, () => new Int32Array(size).fill(-1));
    this.next = Array.from({ length: bands }, () => new Int32Array(capacity).fill(-1));
    this.bandKeys = new Uint32Array(bands);
  }

  /** Computes the band keys of `signature` (kept for the following `insert` / `forEachCandidate`). */
  private computeKeys(signature: Uint32Array): void {
    for (let band = 0; band < this.bands; band++) {
      let h = 0x5bd1e995 ^ band;
      for (let i = band * this.rows; i < (band + 1) * this.rows; i++) {
        let block = Math.imul(signature[i] as number, 0xcc9e2d51);
        block = (block << 15) | (block >>> 17);
        block = Math.imul(block, 0x1b873593);
        h ^= block;
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      }
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      this.bandKeys[band] = h >>> 0;
    }
  }

  /** The slot of `key` in a band's table: where it is, or the empty slot where it would go. */
  private slot(keys: Uint32Array, heads: Int32Array, key: number): number {
    const mask = this.tableSize - 1;
    let position = key & mask;
    while (heads[position] !== -1 && keys[position] !== key) {
      position = (position + 1) & mask;
    }
    return position;
  }

  /** Adds document `doc` with `signature` to every band. */
  insert(doc: number, signature: Uint32Array): void {
    if (!Number.isInteger(doc) || doc < 0 || doc >= this.capacity) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `document ${doc} out of the index's range [0, ${this.capacity})`,
      );
    }
    this.computeKeys(signature);
    for (let band = 0; band < this.bands; band++) {
      const keys = this.keys[band] as Uint32Array;
      const heads = this.heads[band] as Int32Array;
      const key = this.bandKeys[band] as number;
      const slot = this.slot(keys, heads, key);
      keys[slot] = key;
      (this.next[band] as Int32Array)[doc] = heads[slot] as number;
      heads[slot] = doc;
    }
  }

  /**
   * Calls `visit(doc)` for each inserted document sharing a band key with `signature` (a document
   * sharing several bands is visited once per band); stops early when `visit` returns true.
   */
  forEachCandidate(signature: Uint32Array, visit: (doc: number) => boolean | void): void {
    this.computeKeys(signature);
    for (let band = 0; band < this.bands; band++) {
      const keys = this.keys[band] as Uint32Array;
      const heads = this.heads[band] as Int32Array;
      const next = this.next[band] as Int32Array;
      for (let doc = heads[this.slot(keys, heads, this.bandKeys[band] as number)] as number; doc !== -1;) {
        if (visit(doc) === true) {
          return;
        }
        doc = next[doc] as number;
      }
    }
  }

  /** Bytes held by the tables. */
  get bytes(): number {
    return this.bands * (this.tableSize * 8 + this.capacity * 4);
  }
}

/** Which copy of a group of near-duplicates survives. */
export type KeepPolicy = "first" | "last";

/** Parameters of `findDuplicates` and `findNearDuplicatePairs`. */
export interface FindDuplicatesParams {
  signatures: SignatureStore;
  bands: number;
  rows: number;
  /** A candidate pair is a near-duplicate when its estimated Jaccard is at least this. */
  threshold: number;
  /** @default "last" (the Pile's rule) */
  keep?: KeepPolicy;
}

/** What `findDuplicates` decided. */
export interface DuplicateDecisions {
  /** For each document, the index of the near-duplicate that made it dropped, or -1 when kept. */
  duplicateOf: Int32Array;
  /** Estimated Jaccard of each dropped document with `duplicateOf` (NaN when kept). */
  estimatedJaccard: Float32Array;
  dropped: number;
  /** Candidate pairs whose signatures were compared. */
  comparisons: number;
  /** Bytes of the LSH tables (released on return). */
  indexBytes: number;
}

/** Smallest number of equal signature values whose fraction reaches `threshold`. */
function minimumEqualValues(threshold: number, numPerm: number): number {
  return Math.max(0, Math.ceil(threshold * numPerm - 1e-9));
}

/**
 * Decides which documents to drop. With `keep: "last"` (the Pile's rule, EleutherAI/pile_dedupe),
 * a document is dropped when some LATER document is a near-duplicate of it (shares a band and has
 * estimated Jaccard ≥ threshold); with `keep: "first"`, when some EARLIER one is. Every document takes
 * part in the comparison, dropped or not, as in pile_dedupe, so the result does not depend on the
 * order in which pairs are examined. Comparisons stop at the first near-duplicate found.
 */
export function findDuplicates(params: FindDuplicatesParams): DuplicateDecisions {
  const { signatures, threshold } = params;
  const count = signatures.length;
  const index = new LshIndex({
    bands: params.bands,
    rows: params.rows,
    capacity: count,
    numPerm: signatures.numPerm,
  });
  const minimum = minimumEqualValues(threshold, signatures.numPerm);
  const duplicateOf = new Int32Array(count).fill(-1);
  const estimated = new Float32Array(count).fill(NaN);
  const lastComparedWith = new Int32Array(count).fill(-1);
  let dropped = 0;
  let comparisons = 0;
  const keepLast = (params.keep ?? "last") === "last";
  for (let step = 0; step < count; step++) {
    const doc = keepLast ? count - 1 - step : step;
    const signature = signatures.get(doc);
    index.forEachCandidate(signature, (other) => {
      if (lastComparedWith[other] === doc) {
        return false;
      }
      lastComparedWith[other] = doc;
      comparisons++;
      const equal = signatures.equalValues(doc, other);
      if (equal >= minimum) {
        duplicateOf[doc] = other;
        estimated[doc] = equal / signatures.numPerm;
        dropped++;
        return true;
      }
      return false;
    });
    index.insert(doc, signature);
  }
  return { duplicateOf, estimatedJaccard: estimated, dropped, comparisons, indexBytes: index.bytes };
}

/** A pair of documents (`a < b`) whose signatures verified as near-duplicates. */
export interface NearDuplicatePair {
  a: number;
  b: number;
  estimatedJaccard: number;
}

/** Every candidate pair with estimated Jaccard ≥ threshold (no early stop): for measuring recall and precision. */
export function findNearDuplicatePairs(params: Omit<FindDuplicatesParams, "keep">): NearDuplicatePair[] {
  const { signatures, threshold } = params;
  const count = signatures.length;
  const index = new LshIndex({
    bands: params.bands,
    rows: params.rows,
    capacity: count,
    numPerm: signatures.numPerm,
  });
  const minimum = minimumEqualValues(threshold, signatures.numPerm);
  const lastComparedWith = new Int32Array(count).fill(-1);
  const pairs: NearDuplicatePair[] = [];
  for (let doc = 0; doc < count; doc++) {
    const signature = signatures.get(doc);
    index.forEachCandidate(signature, (other) => {
      if (lastComparedWith[other] !== doc) {
        lastComparedWith[other] = doc;
        const equal = signatures.equalValues(doc, other);
        if (equal >= minimum) {
          pairs.push({ a: other, b: doc, estimatedJaccard: equal / signatures.numPerm });
        }
      }
    });
    index.insert(doc, signature);
  }
  return pairs;
}
