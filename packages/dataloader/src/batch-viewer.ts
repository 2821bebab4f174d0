import { DataloaderError } from "./errors.js";
import type { IndexedDataset } from "./indexed-dataset.js";

/** Parameters of `preshuffledBatch`. */
export interface PreshuffledBatchParams {
  /** A pre-shuffled dataset (Pythia's released format): rows of `seqLength + 1` tokens back to back. */
  dataset: IndexedDataset;
  /** 0-based batch index: batch k is the data of optimizer step k + 1 (Pythia's `batch_viewer.py`). */
  step: number;
  /** Rows per batch (1024 for Pythia). */
  batchSize: number;
  /** Tokens per training input; rows hold one more (the shifted label). @default 2048 */
  seqLength?: number;
}

/**
 * The rows of batch `step` of a pre-shuffled dataset: rows `[step·B, (step+1)·B)`, each `seqLength + 1`
 * tokens, read as one contiguous range. Row r starts at token `r·(seqLength+1)` of the `.bin`.
 */
export function preshuffledBatch(params: PreshuffledBatchParams): Int32Array[] {
  const { dataset, step, batchSize } = params;
  const rowLength = (params.seqLength ?? 2048) + 1;
  for (const [name, value] of [
    ["step", step],
    ["batchSize", batchSize],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || (name === "batchSize" && value === 0)) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `${name} must be a ${name === "step" ? "non-negative" : "positive"} integer, got ${value}`,
      );
    }
  }
  const rows = Math.floor(dataset.tokenCount / rowLength);
  const first = step * batchSize;
  if (first + batchSize > rows) {
    throw new DataloaderError(
      "DATASET_RANGE",
      `${dataset.prefix}: batch ${step} needs rows [${first}, ${first + batchSize}) but the file holds ${rows} rows of ${rowLength} tokens (last full batch: ${Math.floor(rows / batchSize) - 1})`,
    );
  }
  const tokens = dataset.readTokens(first * rowLength, batchSize * rowLength);
  const out: Int32Array[] = [];
  for (let row = 0; row < batchSize; row++) {
    out.push(
      Int32Array.from(tokens.subarray(row * rowLength, (row + 1) * rowLength) as ArrayLike<number>, Number),
    );
  }
  return out;
}
