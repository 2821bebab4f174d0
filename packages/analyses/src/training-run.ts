import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { completeCheckpoints, openBatchSource, type TrainConfig, type TrainingData } from "@pythia/trainer";
import { AnalysisError } from "./analysis-error.js";

/** A `@pythia/trainer` run directory opened for analysis: its config, data and checkpoints. */
export interface TrainingRun {
  dir: string;
  config: TrainConfig;
  data: TrainingData;
  /** Steps of the complete checkpoints, oldest first. */
  checkpointSteps: number[];
  /** `<dir>/step{N}`. */
  checkpointDir(step: number): string;
  /** Training rows (each `seqLength + 1` tokens) `[start, start + count)` in training order. */
  rows(start: number, count: number): Int32Array[];
  /** Rows trained on up to and including optimizer step `step` (= step × batchSize). */
  seenAt(step: number): number;
  close(): void;
}

/** The `run.json` fields this package reads. */
export interface RunJsonFormat {
  config: TrainConfig;
  data: { kind: "index-map" | "preshuffled"; prefix: string; validationPrefix?: string };
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
  return json.data.kind === "index-map"
    ? { kind: "index-map", prefix: json.data.prefix, cacheDir: join(runDir, "index-maps") }
    : { kind: "preshuffled", prefix: json.data.prefix };
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
  const checkpointSteps = (await completeCheckpoints(params.dir)).reverse();
  return {
    dir: params.dir,
    config,
    data,
    checkpointSteps,
    checkpointDir: (step) => join(params.dir, `step${step}`),
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
