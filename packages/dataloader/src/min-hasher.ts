/**
 * MinHash signatures of word-shingle sets (see `word-shingles.ts`), deterministic for a seed.
 *
 * Each shingle is hashed to 32 bits (FNV-1a over each token's UTF-16 code units, the tokens combined
 * with MurmurHash3's block mix, finished with its `fmix32`, so the hashes are uniformly spread).
 * Permutation `i` maps a shingle hash `x` to `aᵢ·x + bᵢ mod 2³²` (`aᵢ` odd: a bijection of the 32-bit
 * words), with `aᵢ, bᵢ` drawn from numpy's `RandomState(seed)`; value `i` of the signature is the
 * minimum over the document's distinct shingles. (A further `fmix32` after the affine step gave the
 * same bias and variance in `min-hasher.test.ts` at twice the cost.) `P[sigᵢ(A) = sigᵢ(B)] ≈ J(A, B)`, so the fraction of equal values
 * estimates the Jaccard similarity. The values are not datasketch's (it hashes with SHA-1 and permutes
 * modulo 2⁶¹ − 1); the estimator is the same.
 */
import { DataloaderError } from "./errors.js";
import { RandomState } from "./numpy-random-state.js";
import { hashWordTokens } from "./character-classes.js";

/** Parameters of `MinHasher`. */
export interface MinHasherParams {
  /** Signature length (datasketch's `num_perm`). @default 128 */
  numPerm?: number;
  /** Seed of the permutations: equal seeds give equal signatures. @default 1 (datasketch's default) */
  seed?: number;
  /** Tokens per shingle. @default 5 (the Pile's near-deduplication) */
  shingleSize?: number;
}

/** The value of every signature slot of a document without shingles. */
export const EMPTY_SIGNATURE_VALUE = 0xffffffff;

/** Computes MinHash signatures of documents' word-shingle sets. Reuses its buffers: one per thread. */
export class MinHasher {
  readonly numPerm: number;
  readonly seed: number;
  readonly shingleSize: number;
  private readonly multipliers: Uint32Array;
  private readonly increments: Uint32Array;
  private tokenHashes = new Uint32Array(1024);
  private shingleHashes = new Uint32Array(1024);

  constructor(params: MinHasherParams = {}) {
    this.numPerm = params.numPerm ?? 128;
    this.seed = params.seed ?? 1;
    this.shingleSize = params.shingleSize ?? 5;
    if (!Number.isInteger(this.numPerm) || this.numPerm < 1) {
      throw new DataloaderError("DATASET_INPUT", `numPerm must be a positive integer, got ${this.numPerm}`);
    }
    if (!Number.isInteger(this.shingleSize) || this.shingleSize < 1) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `shingleSize must be a positive integer, got ${this.shingleSize}`,
      );
    }
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) {
      throw new DataloaderError("DATASET_INPUT", `seed must be an integer in [0, 2^32), got ${this.seed}`);
    }
    const random = new RandomState(this.seed);
    this.multipliers = new Uint32Array(this.numPerm);
    this.increments = new Uint32Array(this.numPerm);
    for (let i = 0; i < this.numPerm; i++) {
      this.multipliers[i] = random.nextUint32() | 1;
      this.increments[i] = random.nextUint32();
    }
  }

  /** The signature of `text` (a new array of `numPerm` values). */
  signature(text: string): Uint32Array {
    const out = new Uint32Array(this.numPerm);
    this.signatureInto(text, out, 0);
    return out;
  }

  /** Writes the signature of `text` to `out[offset … offset + numPerm)`; returns its number of distinct shingles. */
  signatureInto(text: string, out: Uint32Array, offset: number): number {
    const shingles = this.distinctShingleHashes(text);
    const count = shingles.length;
    const { multipliers, increments } = this;
    for (let i = 0; i < this.numPerm; i++) {
      const a = multipliers[i] as number;
      const b = increments[i] as number;
      let min = EMPTY_SIGNATURE_VALUE;
      for (let j = 0; j < count; j++) {
        const v = (Math.imul(shingles[j] as number, a) + b) >>> 0;
        if (v < min) {
          min = v;
        }
      }
      out[offset + i] = min;
    }
    return count;
  }

  /** The sorted, distinct 32-bit hashes of the shingles of `text` (a view of a reused buffer). */
  distinctShingleHashes(text: string): Uint32Array {
    const hashed = hashWordTokens(text, this.tokenHashes);
    this.tokenHashes = hashed.hashes;
    const tokens = hashed.count;
    if (tokens === 0) {
      return this.shingleHashes.subarray(0, 0);
    }
    const size = Math.min(this.shingleSize, tokens);
    const count = tokens - size + 1;
    if (this.shingleHashes.length < count) {
      this.shingleHashes = new Uint32Array(Math.max(count, this.shingleHashes.length * 2));
    }
    const hashes = this.tokenHashes;
    for (let start = 0; start < count; start++) {
      let h = 0x9747b28c;
      for (let k = start; k < start + size; k++) {
        let block = Math.imul(hashes[k] as number, 0xcc9e2d51);
        block = (block << 15) | (block >>> 17);
        block = Math.imul(block, 0x1b873593);
        h ^= block;
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      }
      this.shingleHashes[start] = fmix32(h ^ size);
    }
    const sorted = this.shingleHashes.subarray(0, count).sort();
    let distinct = 0;
    for (let i = 0; i < count; i++) {
      if (i === 0 || sorted[i] !== sorted[distinct - 1]) {
        sorted[distinct++] = sorted[i] as number;
      }
    }
    return sorted.subarray(0, distinct);
  }
}

/** The fraction of equal values of two signatures of equal length: the MinHash Jaccard estimate. */
export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length || a.length === 0) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `signatures must have the same non-zero length, got ${a.length} and ${b.length}`,
    );
  }
  let equal = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) {
      equal++;
    }
  }
  return equal / a.length;
}

/** MurmurHash3's 32-bit finaliser (a bijection with full avalanche). */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
