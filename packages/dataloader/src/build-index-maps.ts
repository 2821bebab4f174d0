import { DataloaderError } from "./errors.js";
import { RandomState } from "./numpy-random-state.js";

// GPT-NeoX `megatron/data/gpt2_dataset.py` (commit bcd6ec20, the one Pythia pins; v1.0 is identical)
// with `helpers.cpp` `build_sample_idx`. Everything is typed arrays: at Pythia scale doc_idx has
// ~210M entries and sample_idx/shuffle_idx ~160M rows.

const UINT32_MAX = 0xffffffff;
/** Largest int32, the bound on `doc_idx` length and `seqLength`. */
export const INT32_MAX = 0x7fffffff;

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

function checkSize(sizes: Int32Array, item: number): number {
  const size = sizes[item] as number;
  if (size < 0) {
    throw new DataloaderError("DATASET_INPUT", `sizes[${item}] = ${size} is negative`);
  }
  return size;
}

/** Throws `DATASET_INPUT` unless `value` is an integer in `[min, max]`. */
export function checkInteger(name: string, value: number, min: number, max: number): void {
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
