import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { IndexedDataset } from "@pythia/dataloader";
import { completeCheckpoints, openBatchSource, type TrainConfig, type TrainingData } from "@pythia/trainer";
import { AnalysisError } from "./analysis-error.js";

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

/** The `run.json` fields this package reads. */
export interface RunJsonFormat {
  config: TrainConfig;
  data: {
    kind: "index-map" | "preshuffled";
    prefix: string;
    /** Written since the trainer records it; runs without it used the default, 0.01. */
    validationFraction?: number;
    validationPrefix?: string;
  };
}

/**
 * Reads `<dir>/run.json`.
 * @throws AnalysisError (`RUN`) when it is missing, unreadable or of an unknown data kind.
 */
export function readRunJson(dir: string): RunJsonFormat {
  const path = join(dir, "run.json");
  if (!existsSync(path)) {
    throw new AnalysisError(
      "RUN",
      `${dir}: no run.json; pass the output directory of a @pythia/trainer run (it holds run.json and step{N}/)`,
    );
  }
  let json: RunJsonFormat;
  try {
    json = JSON.parse(readFileSync(path, "utf8")) as RunJsonFormat;
  } catch (error) {
    throw new AnalysisError("RUN", `${path}: not valid JSON (${(error as Error).message})`);
  }
  if (json.data?.kind !== "index-map" && json.data?.kind !== "preshuffled") {
    throw new AnalysisError("RUN", `${path}: unknown data kind ${JSON.stringify(json.data?.kind)}`);
  }
  return json;
}

/** The training data of a run as the trainer takes it (index maps cached under `<runDir>/index-maps`). */
export function runTrainingData(json: RunJsonFormat, runDir: string): TrainingData {
  const { data } = json;
  return data.kind === "index-map"
    ? {
        kind: "index-map",
        prefix: data.prefix,
        cacheDir: join(runDir, "index-maps"),
        ...(data.validationFraction === undefined ? {} : { validationFraction: data.validationFraction }),
      }
    : {
        kind: "preshuffled",
        prefix: data.prefix,
        ...(data.validationPrefix === undefined ? {} : { validationPrefix: data.validationPrefix }),
      };
}

/**
 * Opens a training run written by `@pythia/trainer` (`run.json`, `step{N}/`). The rows are served in
 * the run's own order (pre-shuffled rows or GPT-NeoX's index maps, cached under `<dir>/index-maps`).
 * @throws AnalysisError (`RUN`) when `run.json` is missing or unreadable.
 */
export async function openTrainingRun(params: {
  dir: string;
  /** Read the rows from this pre-shuffled `.bin/.idx` prefix instead of the run's data. */
  dataPrefix?: string;
}): Promise<TrainingRun> {
  const json = readRunJson(params.dir);
  const data: TrainingData =
    params.dataPrefix !== undefined
      ? { kind: "preshuffled", prefix: params.dataPrefix }
      : runTrainingData(json, params.dir);
  const config = json.config;
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
    checkpointSteps = (await completeCheckpoints(params.dir)).reverse();
  } catch (error) {
    source.close();
    throw error;
  }
  return {
    dir: params.dir,
    config,
    data,
    checkpointSteps,
    checkpointDir: (step) => join(params.dir, `step${step}`),
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
  if (existsSync(join(params.dir, "run.json"))) {
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
    const match = /^step(\d+)$/.exec(name);
    if (match !== null && existsSync(join(dir, name, "config.json"))) {
      out.set(Number(match[1]), join(dir, name));
    }
  }
  const refs = join(dir, "refs");
  if (out.size === 0 && existsSync(refs)) {
    for (const name of readdirSync(refs)) {
      const match = /^step(\d+)$/.exec(name);
      const snapshot =
        match === null ? null : join(dir, "snapshots", readFileSync(join(refs, name), "utf8").trim());
      if (match !== null && snapshot !== null && existsSync(join(snapshot, "config.json"))) {
        out.set(Number(match[1]), snapshot);
      }
    }
  }
  return out;
}
