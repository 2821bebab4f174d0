import { DataloaderError } from "./errors.js";
import type { GPT2Dataset } from "./gpt2-dataset.js";
import type { IndexedDataset } from "./indexed-dataset.js";

/** Parameters of `preshuffledBatch`. */
export interface PreshuffledBatchParams {
  /** A pre-shuffled dataset (Pythia's released format): rows of `seqLength + 1` tokens back to back. */
  dataset: IndexedDataset;
  /** 0-based batch index: batch k is the data of optimizer step k + 1 (Pythia's `batch_viewer.py`). */
  step: number;
  /** Rows per batch (1024 for Pythia). */
  batchSize: number;
  /**
   * Tokens per training input; rows hold one more (the shifted label). Default: the items' length
   * minus one when every item of the `.idx` has the same length (Pythia's files: 2049), else 2048.
   * A value that disagrees with such uniform items is refused.
   */
  seqLength?: number;
}

/**
 * The row length of a pre-shuffled dataset: the items' length when the `.idx` has two or more items,
 * all of the same length (Pythia's pre-shuffled files hold rows of 2049 tokens as items), else
 * `seqLength + 1` (2049 by default). Throws when `seqLength` disagrees with uniform items.
 */
export function preshuffledRowLength(dataset: IndexedDataset, seqLength?: number): number {
  const sizes = dataset.sizes;
  const first = sizes[0];
  // One item says nothing about rows (a single document read as a token stream): need two or more.
  let uniform = first !== undefined && sizes.length >= 2;
  for (let i = 1; uniform && i < sizes.length; i++) {
    uniform = sizes[i] === first;
  }
  if (!uniform || first === undefined) {
    return (seqLength ?? 2048) + 1;
  }
  if (seqLength !== undefined && seqLength + 1 !== first) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${dataset.prefix}.idx: every item holds ${first} tokens, so rows are ${first} tokens (seq length ${first - 1}), but the seq length asked for is ${seqLength}; leave it out or pass ${first - 1}`,
    );
  }
  return first;
}

/**
 * Batch `step` of a pre-shuffled dataset: rows `[step·B, (step+1)·B)`, each `seqLength + 1` tokens,
 * read as one contiguous range and returned row-major as `[B, seqLength + 1]`. Row r starts at
 * token `r·(seqLength+1)` of the `.bin`.
 */
export function preshuffledBatch(params: PreshuffledBatchParams): Int32Array {
  const { dataset, step, batchSize } = params;
  const rowLength = preshuffledRowLength(dataset, params.seqLength);
  checkStep(step, batchSize);
  const rows = Math.floor(dataset.tokenCount / rowLength);
  const first = step * batchSize;
  if (first + batchSize > rows) {
    throw new DataloaderError(
      "DATASET_RANGE",
      `${dataset.prefix}: batch ${step} needs rows [${first}, ${first + batchSize}) but the file holds ${rows} rows of ${rowLength} tokens (last full batch: ${Math.floor(rows / batchSize) - 1})`,
    );
  }
  const tokens = dataset.readTokens(first * rowLength, batchSize * rowLength);
  return tokens instanceof Int32Array ? tokens : Int32Array.from(tokens as ArrayLike<number>, Number);
}

/** Parameters of `indexMapBatch`. */
export interface IndexMapBatchParams {
  /** GPT-NeoX's shuffled order over an unshuffled dataset. */
  dataset: GPT2Dataset;
  /** 0-based batch index (the data of optimizer step `step + 1`). */
  step: number;
  batchSize: number;
}

/** Batch `step` in GPT2Dataset order: samples `step·B … (step+1)·B − 1`, row-major `[B, seqLength + 1]`. */
export function indexMapBatch(params: IndexMapBatchParams): Int32Array {
  const { dataset, step, batchSize } = params;
  checkStep(step, batchSize);
  const first = step * batchSize;
  if (first + batchSize > dataset.length) {
    throw new DataloaderError(
      "DATASET_RANGE",
      `${dataset.dataset.prefix}: batch ${step} needs samples [${first}, ${first + batchSize}) but the order serves ${dataset.length} (last full batch: ${Math.floor(dataset.length / batchSize) - 1}); raise the number of samples`,
    );
  }
  return dataset.samples(first, batchSize);
}

/** Splits a row-major batch into its rows (views, no copy). */
export function batchRows(batch: Int32Array, rowLength: number): Int32Array[] {
  const rows: Int32Array[] = [];
  for (let start = 0; start < batch.length; start += rowLength) {
    rows.push(batch.subarray(start, start + rowLength));
  }
  return rows;
}

function checkStep(step: number, batchSize: number): void {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new DataloaderError("DATASET_INPUT", `step must be a non-negative integer, got ${step}`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
    throw new DataloaderError("DATASET_INPUT", `batchSize must be a positive integer, got ${batchSize}`);
  }
}
