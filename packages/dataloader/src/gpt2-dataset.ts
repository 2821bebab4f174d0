import { checkInteger, INT32_MAX, type IndexMaps } from "./build-index-maps.js";
import type { TokenArray } from "./dtype.js";
import { DataloaderError } from "./errors.js";
import { IndexedDataset } from "./indexed-dataset.js";
import { loadOrBuildIndexMaps } from "./load-or-build-index-maps.js";

export {
  buildIndexMaps,
  planIndexMaps,
  type BuildIndexMapsParams,
  type IndexMaps,
  type IndexMapsPlan,
} from "./build-index-maps.js";
export {
  indexMapFilenames,
  loadOrBuildIndexMaps,
  type IndexMapFiles,
  type IndexMapFilenamesParams,
  type LoadedIndexMaps,
  type LoadOrBuildIndexMapsParams,
} from "./load-or-build-index-maps.js";

/** Parameters of `GPT2Dataset.open`. */
export interface OpenGPT2DatasetParams {
  /** Indexed dataset prefix (`PREFIX.bin` + `PREFIX.idx`). */
  prefix: string;
  /** Samples requested (147164160 for Pythia). */
  numSamples: number;
  /** Tokens per sample minus one (2048 for Pythia). */
  seqLength: number;
  /** `RandomState` seed (1234 for Pythia). */
  seed: number;
  /** @default "train" (Pythia's weighted-datasets route uses "train_0") */
  name?: string;
  /** Where the index-map cache files live. @default the prefix's directory */
  cacheDir?: string;
}

/** The index maps a `GPT2Dataset` reads through (the fields of `IndexMaps` it needs). */
export type GPT2DatasetIndexMaps = Pick<IndexMaps, "docIdx" | "sampleIdx" | "shuffleIdx" | "seqLength">;

/**
 * GPT-NeoX's `GPT2Dataset`: sample `i` is the `seqLength + 1` tokens of unshuffled sample
 * `shuffleIdx[i]`, read from the indexed dataset on demand (no full-corpus load). `length` is
 * `S - 1`, like the reference (its `__len__` drops the last shuffle entry).
 *
 * @example
 * const dataset = GPT2Dataset.open({ prefix: "data/pile_text_document", name: "train_0",
 *   numSamples: 147164160, seqLength: 2048, seed: 1234 });
 * const batch = dataset.samples(0, 1024); // step 1 of Pythia: Int32Array of 1024 · 2049 ids
 */
export class GPT2Dataset {
  /** The indexed dataset the tokens are read from. */
  readonly dataset: IndexedDataset;
  /** GPT-NeoX `doc_idx` (see `IndexMaps`). */
  readonly docIdx: Int32Array;
  /** GPT-NeoX `sample_idx`, flattened `[S + 1, 2]`. */
  readonly sampleIdx: Int32Array;
  /** GPT-NeoX `shuffle_idx`, length `S`. */
  readonly shuffleIdx: Uint32Array | BigInt64Array;
  /** Tokens per sample minus one. */
  readonly seqLength: number;
  /** Number of samples served: `min(len(shuffle_idx), len(sample_idx)) - 1 = S - 1`. */
  readonly length: number;
  private ownsDataset = false;
  private readonly scratch: TokenArray;

  /** Wraps an open indexed dataset and its index maps (from `buildIndexMaps` or `loadOrBuildIndexMaps`). */
  constructor(params: { dataset: IndexedDataset; indexMaps: GPT2DatasetIndexMaps }) {
    this.dataset = params.dataset;
    const { docIdx, sampleIdx, shuffleIdx, seqLength } = params.indexMaps;
    checkInteger("seqLength", seqLength, 1, INT32_MAX - 1);
    if (sampleIdx.length % 2 !== 0 || sampleIdx.length < 2) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `sampleIdx must be a flattened [rows, 2] array with at least one row, got ${sampleIdx.length} values`,
      );
    }
    this.docIdx = docIdx;
    this.sampleIdx = sampleIdx;
    this.shuffleIdx = shuffleIdx;
    this.seqLength = seqLength;
    this.length = Math.max(0, Math.min(shuffleIdx.length - 1, sampleIdx.length / 2 - 1));
    this.scratch = this.dataset.dtype.create(seqLength + 1);
  }

  /**
   * Opens `PREFIX.bin/.idx`, loads or builds the index maps (`loadOrBuildIndexMaps`) and returns the
   * dataset; `close()` also closes the indexed dataset.
   */
  static open(params: OpenGPT2DatasetParams): GPT2Dataset {
    const dataset = IndexedDataset.open(params.prefix);
    try {
      const indexMaps = loadOrBuildIndexMaps({ ...params, sizes: dataset.sizes });
      const out = new GPT2Dataset({ dataset, indexMaps });
      out.ownsDataset = true;
      return out;
    } catch (error) {
      dataset.close();
      throw error;
    }
  }

  /**
   * The tokens of sample `index` (`dataset[index]["text"]` in GPT-NeoX), `seqLength + 1` ids. Writes
   * into `into` at `intoOffset` when given (and returns it), else into a new Int32Array.
   */
  sample(index: number, into?: Int32Array, intoOffset = 0): Int32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `sample ${index} is out of range [0, ${this.length}) (GPT-NeoX would wrap it modulo the length with a warning)`,
      );
    }
    const width = this.seqLength + 1;
    const out = into ?? new Int32Array(width);
    if (out.length < intoOffset + width) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `sample: the target array has room for ${out.length - intoOffset} tokens, not ${width}`,
      );
    }
    const entry = this.shuffleIdx[index] as number | bigint;
    const unshuffled = typeof entry === "bigint" ? Number(entry) : entry;
    if (unshuffled < 0 || 2 * unshuffled + 3 >= this.sampleIdx.length) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `shuffleIdx[${index}] = ${unshuffled} has no row in sampleIdx (${this.sampleIdx.length / 2} rows): the index maps do not belong together; rebuild them`,
      );
    }
    const firstPosition = this.sampleIdx[2 * unshuffled] as number;
    const firstOffset = this.sampleIdx[2 * unshuffled + 1] as number;
    const lastPosition = this.sampleIdx[2 * unshuffled + 2] as number;
    const lastOffset = this.sampleIdx[2 * unshuffled + 3] as number;

    // Pieces: tail of the first document from firstOffset, whole documents in between, head of the
    // last document through lastOffset (inclusive) — or one slice when both ends share a document.
    let total = 0;
    for (let position = firstPosition; position <= lastPosition; position++) {
      total += this.pieceLength(position, firstPosition, firstOffset, lastPosition, lastOffset);
    }
    if (total !== width) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `sample ${index} (unshuffled ${unshuffled}) spans ${total} tokens, not seqLength + 1 = ${width}: the index maps were built for other sizes or another seqLength; rebuild them`,
      );
    }
    const direct = this.scratch instanceof Int32Array;
    const target: TokenArray = direct ? out : this.scratch;
    let filled = direct ? intoOffset : 0;
    const itemSize = this.dataset.dtype.itemSize;
    for (let position = firstPosition; position <= lastPosition; position++) {
      const count = this.pieceLength(position, firstPosition, firstOffset, lastPosition, lastOffset);
      const document = this.docIdx[position] as number;
      const start = (this.dataset.pointers[document] as number) / itemSize;
      const offset = position === firstPosition ? firstOffset : 0;
      this.dataset.readTokens(start + offset, count, target, filled);
      filled += count;
    }
    if (!direct) {
      const scratch = this.scratch;
      for (let k = 0; k < width; k++) {
        out[intoOffset + k] = Number(scratch[k]);
      }
    }
    return out;
  }

  /** Samples `start … start + count - 1` as one row-major Int32Array of shape `[count, seqLength + 1]` (a training batch). */
  samples(start: number, count: number): Int32Array {
    if (!Number.isInteger(count) || count < 0 || start + count > this.length) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `samples [${start}, ${start + count}) are outside [0, ${this.length})`,
      );
    }
    const width = this.seqLength + 1;
    const out = new Int32Array(count * width);
    for (let k = 0; k < count; k++) {
      this.sample(start + k, out, k * width);
    }
    return out;
  }

  /** Closes the indexed dataset when `open` opened it. */
  close(): void {
    if (this.ownsDataset) {
      this.dataset.close();
    }
  }

  /**
   * Tokens taken from `docIdx[position]` by a sample running from (firstPosition, firstOffset) to
   * (lastPosition, lastOffset) inclusive; throws when the maps point outside the dataset.
   */
  private pieceLength(
    position: number,
    firstPosition: number,
    firstOffset: number,
    lastPosition: number,
    lastOffset: number,
  ): number {
    const document = this.docIdx[position];
    const size = document === undefined ? undefined : this.dataset.sizes[document];
    if (size === undefined) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `doc_idx[${position}] = ${document} is not an item of ${this.dataset.prefix} (${this.dataset.length} items): the index maps belong to another dataset`,
      );
    }
    const from = position === firstPosition ? firstOffset : 0;
    const through = position === lastPosition ? lastOffset : size - 1;
    if (from < 0 || through >= size || through + 1 < from) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `tokens [${from}, ${through}] are outside document ${document} of ${size} tokens (doc_idx position ${position}): the index maps belong to another dataset`,
      );
    }
    return through - from + 1;
  }
}
