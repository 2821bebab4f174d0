import { DataloaderError } from "./errors.js";

const DOCUMENTS_PER_CHUNK = 1 << 14;

/**
 * Every document's MinHash signature, back to back in fixed-size chunks (4 · numPerm bytes per
 * document, no per-document objects, no single allocation over a few tens of MB).
 */
export class SignatureStore {
  readonly numPerm: number;
  private readonly chunks: Uint32Array[] = [];
  private count = 0;

  constructor(numPerm: number) {
    this.numPerm = numPerm;
  }

  /** Documents stored. */
  get length(): number {
    return this.count;
  }

  /** Appends the signatures of `documents` documents, `numPerm` values each, from `signatures`. */
  append(signatures: Uint32Array, documents = signatures.length / this.numPerm): void {
    if (!Number.isInteger(documents) || signatures.length < documents * this.numPerm) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `expected ${documents} signatures of ${this.numPerm} values, got ${signatures.length} values`,
      );
    }
    for (let d = 0; d < documents; d++) {
      const within = this.count % DOCUMENTS_PER_CHUNK;
      if (within === 0) {
        this.chunks.push(new Uint32Array(DOCUMENTS_PER_CHUNK * this.numPerm));
      }
      const chunk = this.chunks[this.chunks.length - 1] as Uint32Array;
      chunk.set(signatures.subarray(d * this.numPerm, (d + 1) * this.numPerm), within * this.numPerm);
      this.count++;
    }
  }

  /** The signature of document `index` (a view, not a copy). */
  get(index: number): Uint32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new DataloaderError("DATASET_RANGE", `signature ${index} out of range [0, ${this.count})`);
    }
    const chunk = this.chunks[Math.floor(index / DOCUMENTS_PER_CHUNK)] as Uint32Array;
    const start = (index % DOCUMENTS_PER_CHUNK) * this.numPerm;
    return chunk.subarray(start, start + this.numPerm);
  }

  /** Number of equal values in the signatures of documents `a` and `b`. */
  equalValues(a: number, b: number): number {
    const n = this.numPerm;
    const chunkA = this.chunks[Math.floor(a / DOCUMENTS_PER_CHUNK)] as Uint32Array;
    const chunkB = this.chunks[Math.floor(b / DOCUMENTS_PER_CHUNK)] as Uint32Array;
    const startA = (a % DOCUMENTS_PER_CHUNK) * n;
    const startB = (b % DOCUMENTS_PER_CHUNK) * n;
    let equal = 0;
    for (let i = 0; i < n; i++) {
      if (chunkA[startA + i] === chunkB[startB + i]) {
        equal++;
      }
    }
    return equal;
  }

  /** Bytes held by the signatures (allocated chunks). */
  get bytes(): number {
    return this.chunks.length * DOCUMENTS_PER_CHUNK * this.numPerm * 4;
  }
}
