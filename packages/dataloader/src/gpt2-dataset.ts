import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DataloaderError, DatasetFormatError } from "./errors.js";
import type { TokenArray } from "./dtype.js";
import { IndexedDataset } from "./indexed-dataset.js";
import { readNpy, writeNpy } from "./npy.js";
import { RandomState } from "./numpy-random-state.js";

// GPT-NeoX `megatron/data/gpt2_dataset.py` (commit bcd6ec20, the one Pythia pins; v1.0 is identical)
// with `helpers.cpp` `build_sample_idx`. Everything is typed arrays: at Pythia scale doc_idx has
// ~210M entries and sample_idx/shuffle_idx ~160M rows.

const UINT32_MAX = 0xffffffff;
const INT32_MAX = 0x7fffffff;

/** Parameters of `buildIndexMaps`. */
export interface BuildIndexMapsParams {
  /** Tokens per item of the indexed dataset (`IndexedDataset.sizes`). */
  sizes: Int32Array;
  /** Item ids the dataset draws from. @default all items, `0..sizes.length-1` (what Pythia trained on) */
  documents?: Int32Array;
  /** Samples requested (`train_iters · train_batch_size · 1.005`, rounded up, for Pythia: 147164160). */
  numSamples: number;
  /** Tokens per sample minus one (2048 for Pythia): each sample holds `seqLength + 1` tokens. */
  seqLength: number;
  /** Seed of the numpy `RandomState` (1234 for Pythia). */
  seed: number;
}

/** The three GPT-NeoX index maps of a `GPT2Dataset` and the numbers they were built from. */
export interface IndexMaps {
  /** The document ids repeated `numEpochs` times (epoch-major), shuffled as one array. */
  docIdx: Int32Array;
  /** Flattened `[S + 1, 2]`: row j = (position in `docIdx`, token offset) where sample j starts. */
  sampleIdx: Int32Array;
  /** `0..S-1` shuffled: `shuffleIdx[i]` is the unshuffled sample served as `dataset[i]`. int64 only when `S >= 2^32 - 2`. */
  shuffleIdx: Uint32Array | BigInt64Array;
  /** Passes over the documents needed for `numSamples` samples. */
  numEpochs: number;
  /** Tokens in one pass over the documents. */
  tokensPerEpoch: number;
  /** Tokens per sample minus one. */
  seqLength: number;
}

/** The sizes of the index maps, computed without building them. */
export interface IndexMapsPlan {
  /** Tokens in one pass over the documents (`_num_tokens`). */
  tokensPerEpoch: number;
  /** Smallest epoch count giving at least `numSamples` samples (`_num_epochs`). */
  numEpochs: number;
  /** Number of documents per epoch. */
  documentCount: number;
  /** `S = (numEpochs · tokensPerEpoch - 1) // seqLength`: rows of `sampleIdx` minus one, length of `shuffleIdx`. */
  sampleCount: number;
  /** The dtype GPT-NeoX gives `shuffle_idx`: uint32, or int64 when `S >= 2^32 - 2`. */
  shuffleDtype: "<u4" | "<i8";
}

/**
 * Computes `tokens_per_epoch`, `num_epochs` and `S` exactly as GPT-NeoX (`_num_tokens`, `_num_epochs`,
 * `build_sample_idx`), validating the parameters.
 */
export function planIndexMaps(params: BuildIndexMapsParams): IndexMapsPlan {
  const { sizes, documents, numSamples, seqLength, seed } = params;
  checkInteger("numSamples", numSamples, 0, Number.MAX_SAFE_INTEGER);
  checkInteger("seqLength", seqLength, 1, INT32_MAX - 1);
  checkInteger("seed", seed, 0, UINT32_MAX);
  let tokensPerEpoch = 0;
  if (documents === undefined) {
    for (let i = 0; i < sizes.length; i++) {
      tokensPerEpoch += checkSize(sizes, i);
    }
  } else {
    for (let k = 0; k < documents.length; k++) {
      const document = documents[k] as number;
      if (document < 0 || document >= sizes.length) {
        throw new DataloaderError(
          "DATASET_INPUT",
          `documents[${k}] = ${document} is not an item of the dataset (it has ${sizes.length} items)`,
        );
      }
      tokensPerEpoch += checkSize(sizes, document);
    }
  }
  const documentCount = documents === undefined ? sizes.length : documents.length;
  if (tokensPerEpoch === 0) {
    throw new DataloaderError(
      "DATASET_INPUT",
      "the documents hold no tokens, so no sample can be built (GPT-NeoX would loop forever)",
    );
  }
  // _num_epochs: the smallest e >= 1 with (e·T - 1) // L >= N, i.e. e·T >= N·L + 1.
  const needed = numSamples * seqLength + 1;
  if (!Number.isSafeInteger(needed) || !Number.isSafeInteger(tokensPerEpoch)) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `numSamples · seqLength = ${numSamples} · ${seqLength} is beyond 2^53 tokens`,
    );
  }
  let numEpochs = Math.max(1, Math.ceil(needed / tokensPerEpoch));
  while (numEpochs * tokensPerEpoch < needed) {
    numEpochs++;
  }
  while (numEpochs > 1 && (numEpochs - 1) * tokensPerEpoch >= needed) {
    numEpochs--;
  }
  const totalTokens = numEpochs * tokensPerEpoch;
  if (!Number.isSafeInteger(totalTokens)) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${numEpochs} epochs of ${tokensPerEpoch} tokens is beyond 2^53 tokens`,
    );
  }
  if (numEpochs * documentCount > INT32_MAX) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `doc_idx would have ${numEpochs} epochs · ${documentCount} documents = ${numEpochs * documentCount} entries; GPT-NeoX stores its positions as int32 (at most 2^31 - 1)`,
    );
  }
  const sampleCount = floorDivide(totalTokens - 1, seqLength);
  return {
    tokensPerEpoch,
    numEpochs,
    documentCount,
    sampleCount,
    shuffleDtype: sampleCount >= UINT32_MAX - 1 ? "<i8" : "<u4",
  };
}

/**
 * Builds `doc_idx`, `sample_idx` and `shuffle_idx` exactly as GPT-NeoX `_build_index_mappings`: one
 * `RandomState(seed)` shuffles the repeated document list, then (continuing) `arange(S)`.
 *
 * @example
 * const maps = buildIndexMaps({ sizes: dataset.sizes, numSamples: 147164160, seqLength: 2048, seed: 1234 });
 */
export function buildIndexMaps(params: BuildIndexMapsParams): IndexMaps {
  const plan = planIndexMaps(params);
  const { sizes, documents, seqLength, seed } = params;
  const rng = new RandomState(seed);

  // _build_doc_idx: documents repeated num_epochs times (epoch-major), int32, shuffled as one array.
  const docIdx = allocate(() => new Int32Array(plan.numEpochs * plan.documentCount), "doc_idx");
  for (let epoch = 0; epoch < plan.numEpochs; epoch++) {
    const base = epoch * plan.documentCount;
    if (documents === undefined) {
      for (let i = 0; i < plan.documentCount; i++) {
        docIdx[base + i] = i;
      }
    } else {
      docIdx.set(documents, base);
    }
  }
  rng.shuffle(docIdx);

  const sampleIdx = buildSampleIdx({ sizes, docIdx, seqLength, sampleCount: plan.sampleCount });

  // _build_shuffle_idx: arange(S) as uint32 (int64 when S >= 2^32 - 2), shuffled by the same rng.
  const sampleCount = plan.sampleCount;
  let shuffleIdx: Uint32Array | BigInt64Array;
  if (plan.shuffleDtype === "<u4") {
    const values = allocate(() => new Uint32Array(sampleCount), "shuffle_idx");
    for (let i = 0; i < sampleCount; i++) {
      values[i] = i;
    }
    shuffleIdx = values;
  } else {
    const values = allocate(() => new BigInt64Array(sampleCount), "shuffle_idx");
    const words = new Uint32Array(values.buffer, values.byteOffset, 2 * sampleCount);
    for (let i = 0; i < sampleCount; i++) {
      words[2 * i] = i >>> 0;
      words[2 * i + 1] = Math.floor(i / 4294967296);
    }
    shuffleIdx = values;
  }
  rng.shuffle(shuffleIdx);

  return {
    docIdx,
    sampleIdx,
    shuffleIdx,
    numEpochs: plan.numEpochs,
    tokensPerEpoch: plan.tokensPerEpoch,
    seqLength,
  };
}

/** `helpers.cpp` `build_sample_idx`: walk `docIdx` taking `seqLength + 1` tokens per sample, the last shared with the next. */
function buildSampleIdx(params: {
  sizes: Int32Array;
  docIdx: Int32Array;
  seqLength: number;
  sampleCount: number;
}): Int32Array {
  const { sizes, docIdx, seqLength, sampleCount } = params;
  const sampleIdx = allocate(() => new Int32Array(2 * (sampleCount + 1)), "sample_idx");
  let position = 0; // index into docIdx
  let offset = 0; // token offset inside docIdx[position]
  for (let sample = 1; sample <= sampleCount; sample++) {
    let remaining = seqLength + 1;
    while (remaining !== 0) {
      const documentLength = (sizes[docIdx[position] as number] as number) - offset;
      remaining -= documentLength;
      if (remaining <= 0) {
        // Land on the last token taken: it is the first token of the next sample.
        offset += remaining + documentLength - 1;
        remaining = 0;
      } else {
        position++;
        offset = 0;
        if (position >= docIdx.length) {
          throw new DataloaderError(
            "DATASET_INPUT",
            `sample ${sample} runs past the end of doc_idx: sizes changed while building?`,
          );
        }
      }
    }
    sampleIdx[2 * sample] = position;
    sampleIdx[2 * sample + 1] = offset;
  }
  return sampleIdx;
}

/** Paths of the three index-map cache files. */
export interface IndexMapFiles {
  /** `…_doc_idx.npy` */
  docIdx: string;
  /** `…_sample_idx.npy` */
  sampleIdx: string;
  /** `…_shuffle_idx.npy` */
  shuffleIdx: string;
}

/** Parameters of `indexMapFilenames`. */
export interface IndexMapFilenamesParams {
  /** Dataset path prefix (without `.bin`/`.idx`). */
  prefix: string;
  /** Dataset name: `train` in GPT2Dataset's default, `train_0` for Pythia's weighted-datasets route. @default "train" */
  name?: string;
  /** Samples requested. */
  numSamples: number;
  /** Tokens per sample minus one. */
  seqLength: number;
  /** `RandomState` seed. */
  seed: number;
  /** Directory for the files instead of the prefix's own directory (names keep the prefix's base name). */
  cacheDir?: string;
}

/**
 * GPT-NeoX's cache paths `{prefix}_{name}_indexmap_{numSamples}ns_{seqLength}sl_{seed}s_{doc,sample,shuffle}_idx.npy`,
 * e.g. `pile_20B_tokenizer_text_document_train_0_indexmap_147164160ns_2048sl_1234s_shuffle_idx.npy`.
 */
export function indexMapFilenames(params: IndexMapFilenamesParams): IndexMapFiles {
  const { prefix, name = "train", numSamples, seqLength, seed, cacheDir } = params;
  const base = cacheDir === undefined ? prefix : join(cacheDir, basename(prefix));
  const stem = `${base}_${name}_indexmap_${numSamples}ns_${seqLength}sl_${seed}s`;
  return {
    docIdx: `${stem}_doc_idx.npy`,
    sampleIdx: `${stem}_sample_idx.npy`,
    shuffleIdx: `${stem}_shuffle_idx.npy`,
  };
}

/** Parameters of `loadOrBuildIndexMaps`. */
export interface LoadOrBuildIndexMapsParams extends BuildIndexMapsParams {
  /** Dataset path prefix; the cache files are named after it. */
  prefix: string;
  /** @default "train" */
  name?: string;
  /** Where the cache files live. @default the prefix's directory, like GPT-NeoX */
  cacheDir?: string;
}

/** Index maps and where they came from. */
export interface LoadedIndexMaps extends IndexMaps {
  /** The cache files read or written. */
  files: IndexMapFiles;
  /** True when read from existing cache files, false when built (and written) now. */
  fromCache: boolean;
}

/**
 * GPT-NeoX `_build_index_mappings` with its cache: loads the three `.npy` files when all exist
 * (checking their dtypes, shapes and index ranges against the parameters), otherwise builds the maps
 * and writes them with GPT-NeoX's names and dtypes (doc_idx `<i4`, sample_idx `<i4 [S+1, 2]`,
 * shuffle_idx `<u4` or `<i8`), each file atomically and byte-identical to numpy's `np.save`.
 * @throws DatasetFormatError (code `NPY_FORMAT`) when a cache file does not fit the parameters.
 */
export function loadOrBuildIndexMaps(params: LoadOrBuildIndexMapsParams): LoadedIndexMaps {
  const files = indexMapFilenames(params);
  const plan = planIndexMaps(params);
  if (existsSync(files.docIdx) && existsSync(files.sampleIdx) && existsSync(files.shuffleIdx)) {
    return { ...loadIndexMaps(files, plan, params), files, fromCache: true };
  }
  const maps = buildIndexMaps(params);
  mkdirSync(dirname(files.docIdx), { recursive: true });
  writeNpy(files.docIdx, { dtype: "<i4", shape: [maps.docIdx.length], data: maps.docIdx });
  writeNpy(files.sampleIdx, {
    dtype: "<i4",
    shape: [maps.sampleIdx.length / 2, 2],
    data: maps.sampleIdx,
  });
  if (maps.shuffleIdx instanceof Uint32Array) {
    writeNpy(files.shuffleIdx, {
      dtype: "<u4",
      shape: [maps.shuffleIdx.length],
      data: maps.shuffleIdx,
    });
  } else {
    writeNpy(files.shuffleIdx, {
      dtype: "<i8",
      shape: [maps.shuffleIdx.length],
      data: maps.shuffleIdx,
    });
  }
  return { ...maps, files, fromCache: false };
}

function loadIndexMaps(
  files: IndexMapFiles,
  plan: IndexMapsPlan,
  params: LoadOrBuildIndexMapsParams,
): IndexMaps {
  const stale = "does not match these parameters: delete the three *_indexmap_* files to rebuild them";
  const fail = (file: string, field: string, message: string): DatasetFormatError =>
    new DatasetFormatError({ file, field, message: `${message}; ${stale}`, code: "NPY_FORMAT" });

  const docFile = readNpy(files.docIdx);
  const docLength = plan.numEpochs * plan.documentCount;
  if (docFile.dtype !== "<i4") {
    throw fail(files.docIdx, "descr", `is '${docFile.dtype}', expected '<i4'`);
  }
  if (docFile.shape.length !== 1 || docFile.shape[0] !== docLength) {
    throw fail(files.docIdx, "shape", `is (${docFile.shape.join(", ")}), expected (${docLength},)`);
  }
  const docIdx = docFile.data;
  for (let i = 0; i < docIdx.length; i++) {
    const document = docIdx[i] as number;
    if (document < 0 || document >= params.sizes.length) {
      throw fail(
        files.docIdx,
        `data[${i}]`,
        `is ${document}, not an item of the ${params.sizes.length}-item dataset`,
      );
    }
  }

  const sampleFile = readNpy(files.sampleIdx);
  const rows = plan.sampleCount + 1;
  if (sampleFile.dtype !== "<i4") {
    throw fail(files.sampleIdx, "descr", `is '${sampleFile.dtype}', expected '<i4'`);
  }
  if (sampleFile.shape.length !== 2 || sampleFile.shape[0] !== rows || sampleFile.shape[1] !== 2) {
    throw fail(files.sampleIdx, "shape", `is (${sampleFile.shape.join(", ")}), expected (${rows}, 2)`);
  }
  const sampleIdx = sampleFile.data;
  let previous = 0;
  for (let row = 0; row < rows; row++) {
    const position = sampleIdx[2 * row] as number;
    if (position < previous || position >= docLength || (sampleIdx[2 * row + 1] as number) < 0) {
      throw fail(
        files.sampleIdx,
        `data[${row}]`,
        `is (${position}, ${sampleIdx[2 * row + 1]}): positions must not decrease and lie in doc_idx [0, ${docLength})`,
      );
    }
    previous = position;
  }

  const shuffleFile = readNpy(files.shuffleIdx);
  if (shuffleFile.dtype !== plan.shuffleDtype) {
    throw fail(files.shuffleIdx, "descr", `is '${shuffleFile.dtype}', expected '${plan.shuffleDtype}'`);
  }
  if (shuffleFile.shape.length !== 1 || shuffleFile.shape[0] !== plan.sampleCount) {
    throw fail(
      files.shuffleIdx,
      "shape",
      `is (${shuffleFile.shape.join(", ")}), expected (${plan.sampleCount},)`,
    );
  }
  let shuffleIdx: Uint32Array | BigInt64Array;
  if (shuffleFile.dtype === "<u4") {
    shuffleIdx = shuffleFile.data;
    for (let i = 0; i < shuffleIdx.length; i++) {
      if ((shuffleIdx[i] as number) >= plan.sampleCount) {
        throw fail(files.shuffleIdx, `data[${i}]`, `is ${shuffleIdx[i]}, not below S = ${plan.sampleCount}`);
      }
    }
  } else {
    shuffleIdx = shuffleFile.data;
  }
  return {
    docIdx,
    sampleIdx,
    shuffleIdx,
    numEpochs: plan.numEpochs,
    tokensPerEpoch: plan.tokensPerEpoch,
    seqLength: params.seqLength,
  };
}

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

function checkSize(sizes: Int32Array, item: number): number {
  const size = sizes[item] as number;
  if (size < 0) {
    throw new DataloaderError("DATASET_INPUT", `sizes[${item}] = ${size} is negative`);
  }
  return size;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
}

/** `a // b` for non-negative safe integers, exact even where the float division rounds. */
function floorDivide(a: number, b: number): number {
  let quotient = Math.floor(a / b);
  while (quotient * b > a) {
    quotient--;
  }
  while ((quotient + 1) * b <= a) {
    quotient++;
  }
  return quotient;
}

function allocate<T>(create: () => T, what: string): T {
  try {
    return create();
  } catch (error) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `cannot allocate ${what} (${(error as Error).message}); Node 20 caps one typed array at 4 GiB`,
      { cause: error },
    );
  }
}
