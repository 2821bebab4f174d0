import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  checkpointDir,
  completeCheckpointSteps,
  parseCheckpointName,
  readRunJson,
  RUN_JSON,
} from "@pythia/core/run";
import { IndexedDataset } from "@pythia/dataloader";
import { openBatchSource, runTrainingInput, type TrainConfig, type TrainingData } from "@pythia/trainer";
import { AnalysisError } from "./analysis-errors.js";

/**
 * Checkpoints in step order and the training rows they saw: a `@pythia/trainer` run, or any series of
 * Hugging Face GPT-NeoX checkpoints (a GPT-NeoX run converted to HF, Pythia pulled from the Hub) read
 * with the pre-shuffled data they were trained on.
 */
export interface CheckpointSeries {
  dir: string;
  /** Steps of the checkpoints, oldest first. */
  checkpointSteps: number[];
  /** The checkpoint directory of `step`. */
  checkpointDir(step: number): string;
  /** Rows per optimizer step. */
  batchSize: number;
  /** Tokens per row (sequence length + 1). */
  rowLength: number;
  /** Training rows available (0 when the series has no data). */
  rowCount: number;
  /** Training rows `[start, start + count)` in training order. */
  rows(start: number, count: number): Int32Array[];
  /** Rows trained on up to and including optimizer step `step` (= step × batchSize). */
  seenAt(step: number): number;
  close(): void;
}

/** A `@pythia/trainer` run directory opened for analysis: its config, data and checkpoints. */
export interface TrainingRun extends CheckpointSeries {
  config: TrainConfig;
  data: TrainingData;
}

/**
 * Opens a training run written by `@pythia/trainer` (`run.json`, `step{N}/`). The rows are served in
 * the run's own order (pre-shuffled rows or GPT-NeoX's index maps, cached under `<dir>/index-maps`).
 * The run may have been moved or copied; it is read the same from any working directory.
 * @throws RunError (`RUN_JSON`, from `@pythia/core/run`) when `run.json` is missing or unreadable.
 */
export async function openTrainingRun(params: {
  dir: string;
  /** Read the rows from this pre-shuffled `.bin/.idx` prefix instead of the run's data. */
  dataPrefix?: string;
}): Promise<TrainingRun> {
  const recorded = runTrainingInput(readRunJson({ dir: params.dir }));
  const data: TrainingData =
    params.dataPrefix !== undefined ? { kind: "preshuffled", prefix: params.dataPrefix } : recorded.data;
  const config = recorded.config;
  const source = openBatchSource(data, config, params.dir);
  const width = config.seqLength + 1;
  const cached = new Map<number, Int32Array>();
  const batch = (step: number): Int32Array => {
    let rows = cached.get(step);
    if (rows === undefined) {
      rows = source.trainBatch(step);
      cached.clear();
      cached.set(step, rows);
    }
    return rows;
  };
  let checkpointSteps: number[];
  try {
    checkpointSteps = await completeCheckpointSteps({ dir: params.dir });
  } catch (error) {
    source.close();
    throw error;
  }
  return {
    dir: params.dir,
    config,
    data,
    checkpointSteps,
    checkpointDir: (step) => checkpointDir(params.dir, step),
    batchSize: config.batchSize,
    rowLength: width,
    rowCount: config.steps * config.batchSize,
    rows(start, count) {
      const limit = config.steps * config.batchSize;
      if (start < 0 || start + count > limit) {
        throw new AnalysisError(
          "INPUT",
          `${params.dir}: rows [${start}, ${start + count}) are outside the run's ${limit} training rows`,
        );
      }
      const out: Int32Array[] = [];
      for (let row = start; row < start + count; row++) {
        const step = Math.floor(row / config.batchSize);
        const offset = (row % config.batchSize) * width;
        out.push(batch(step).slice(offset, offset + width));
      }
      return out;
    },
    seenAt: (step) => step * config.batchSize,
    close: () => source.close(),
  };
}

/** Parameters of `openCheckpointSeries`. */
export interface OpenCheckpointSeriesParams {
  /** A `@pythia/trainer` run, a folder of `step{N}/` HF checkpoints, or a `pythia-hub pull` cache folder. */
  dir: string;
  /** Pre-shuffled `.bin/.idx` rows in training order (required for row-based analyses without a run). */
  dataPrefix?: string;
  /** Rows per step without a run.json. @default 1024 (Pythia) */
  batchSize?: number;
  /** Sequence length without a run.json (rows hold one more token). @default 2048 (Pythia) */
  seqLength?: number;
}

/**
 * Opens a checkpoint series. With `run.json` it is `openTrainingRun`; otherwise the checkpoints are
 * the `step{N}/` folders holding a `config.json`, or the `refs/step{N}` → `snapshots/<commit>/`
 * revisions of a Hugging Face cache folder, and the rows come from `dataPrefix`.
 * @throws AnalysisError (`RUN`) when the folder holds no checkpoints.
 */
export async function openCheckpointSeries(params: OpenCheckpointSeriesParams): Promise<CheckpointSeries> {
  if (existsSync(join(params.dir, RUN_JSON))) {
    return openTrainingRun({ dir: params.dir, dataPrefix: params.dataPrefix });
  }
  let dirs = checkpointFolders(params.dir);
  if (dirs.size === 0 && existsSync(params.dir) && statSync(params.dir).isDirectory()) {
    // The Hugging Face cache root: one model's folder inside is what was meant.
    const models = readdirSync(params.dir).filter((name) => name.startsWith("models--"));
    if (models.length === 1) {
      dirs = checkpointFolders(join(params.dir, models[0] as string));
    } else if (models.length > 1) {
      throw new AnalysisError(
        "RUN",
        `${params.dir} is a Hugging Face cache with ${models.length} models; pass one of their folders (${models.map((name) => join(params.dir, name)).join(", ")})`,
      );
    }
  }
  const checkpointSteps = [...dirs.keys()].sort((a, b) => a - b);
  if (checkpointSteps.length === 0) {
    throw new AnalysisError(
      "RUN",
      `${params.dir}: no run.json, no step{N}/ folders with a config.json and no refs/step{N} of a Hugging Face cache; pass a pythia-train run, a folder of step{N}/ HF checkpoints, or a pythia-hub pull folder`,
    );
  }
  const batchSize = params.batchSize ?? 1024;
  const rowLength = (params.seqLength ?? 2048) + 1;
  for (const [name, value] of [
    ["batchSize", batchSize],
    ["seqLength", rowLength - 1],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new AnalysisError("INPUT", `${name} must be a positive integer, got ${value}`);
    }
  }
  const dataset = params.dataPrefix === undefined ? null : IndexedDataset.open(params.dataPrefix);
  const rowCount = dataset === null ? 0 : Math.floor(dataset.tokenCount / rowLength);
  return {
    dir: params.dir,
    checkpointSteps,
    checkpointDir: (step) => {
      const dir = dirs.get(step);
      if (dir === undefined) {
        throw new AnalysisError(
          "INPUT",
          `${params.dir}: no checkpoint step${step} (have ${checkpointSteps.join(", ")})`,
        );
      }
      return dir;
    },
    batchSize,
    rowLength,
    rowCount,
    rows(start, count) {
      if (dataset === null) {
        throw new AnalysisError(
          "INPUT",
          `${params.dir} holds checkpoints but no training data; pass the pre-shuffled .bin/.idx prefix they were trained on (--data PREFIX)`,
        );
      }
      if (start < 0 || start + count > rowCount) {
        throw new AnalysisError(
          "INPUT",
          `${params.dataPrefix}: rows [${start}, ${start + count}) are outside its ${rowCount} rows of ${rowLength} tokens`,
        );
      }
      const tokens = dataset.readTokens(start * rowLength, count * rowLength);
      return Array.from({ length: count }, (_, i) =>
        Int32Array.from(tokens.subarray(i * rowLength, (i + 1) * rowLength) as ArrayLike<number>, Number),
      );
    },
    seenAt: (step) => step * batchSize,
    close: () => dataset?.close(),
  };
}

/** step → checkpoint folder: `step{N}/config.json`, or a Hugging Face cache's `refs/step{N}`. */
function checkpointFolders(dir: string): Map<number, string> {
  const out = new Map<number, string>();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return out;
  }
  for (const name of readdirSync(dir)) {
    const step = parseCheckpointName(name);
    if (step !== null && existsSync(join(dir, name, "config.json"))) {
      out.set(step, join(dir, name));
    }
  }
  const refs = join(dir, "refs");
  if (out.size === 0 && existsSync(refs)) {
    for (const name of readdirSync(refs)) {
      const step = parseCheckpointName(name);
      const snapshot =
        step === null ? null : join(dir, "snapshots", readFileSync(join(refs, name), "utf8").trim());
      if (step !== null && snapshot !== null && existsSync(join(snapshot, "config.json"))) {
        out.set(step, snapshot);
      }
    }
  }
  return out;
}
