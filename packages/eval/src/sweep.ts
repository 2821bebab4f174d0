/**
 * Evaluates a series of checkpoints (a training run's `out/step{N}` directories) and tabulates every
 * metric by step.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@pythia/core";
import {
  checkpointDir,
  checkpointName,
  completeCheckpointSteps,
  parseCheckpointName,
} from "@pythia/core/run";
import { loadCheckpoint } from "@pythia/model";
import { lineChartSvg, writePlot, type WrittenPlot } from "@pythia/plots";
import type { Tokenizer } from "@pythia/tokenizer";
import { checkpointRevision } from "./checkpoint-revision.js";
import { EvalError } from "./eval-errors.js";
import { evaluate, type EvaluateEvent } from "./evaluate.js";
import type { HarnessResults } from "./results-format.js";
import { ScoreCache } from "./score-cache.js";
import { TfjsLoglikelihoodModel } from "./tfjs-loglikelihood-model.js";

/** One value of the sweep table. */
export interface SweepRow {
  step: number;
  task: string;
  metric: string;
  value: number;
  stderr: number | null;
}

/** Events of `sweep`. */
export type SweepEvent =
  | { type: "checkpoint-start"; step: number; dir: string; index: number; count: number }
  | (EvaluateEvent & { step: number })
  | { type: "checkpoint-end"; step: number; results: HarnessResults; reused: boolean }
  /** Something skipped or redone (a `step{N}/` without manifest.json, an unreadable `step{N}.json`). */
  | { type: "warning"; message: string };

/** Parameters of `sweep`. */
export interface SweepParams {
  /** A training run directory; its complete `step{N}` checkpoints are evaluated in step order. */
  runDir?: string;
  /** Or explicit checkpoints. */
  checkpoints?: ReadonlyArray<{ step: number; dir: string }>;
  tasks: readonly string[];
  dataDir: string;
  tokenizer: Pick<Tokenizer, "encode">;
  /** Writes `step{N}.json` (harness results), `metrics.csv`, `metrics.json` and `scores.jsonl` here. */
  outputDir: string;
  numFewshot?: number;
  limit?: number | null;
  batchSize?: number;
  bootstrapIters?: number;
  onEvent?: (event: SweepEvent) => void;
  signal?: AbortSignal;
}

/** The table of a sweep: every metric of every task at every step. */
export interface SweepResult {
  rows: SweepRow[];
  /** Harness results per step. */
  results: Record<number, HarnessResults>;
  /** One plot per task (`plots/<task>.svg`, and `.png` when @resvg/resvg-js is installed). */
  plots: WrittenPlot[];
}

/**
 * Evaluates each checkpoint (resuming: a step whose `step{N}.json` exists with the same tasks and
 * settings is read back, and request scores come from `scores.jsonl`), then writes the table.
 */
export async function sweep(params: SweepParams): Promise<SweepResult> {
  let checkpoints = params.checkpoints ? [...params.checkpoints] : [];
  if (params.runDir !== undefined) {
    const runDir = params.runDir;
    const steps = await completeCheckpointSteps({ dir: runDir });
    for (const skipped of incompleteStepDirs(runDir, steps)) {
      params.onEvent?.({
        type: "warning",
        message: existsSync(join(runDir, skipped, "manifest.json"))
          ? `skipping ${join(runDir, skipped)}/: its manifest.json is unreadable or does not match its files (one is missing or has another size); copy the checkpoint again to evaluate it`
          : `skipping ${join(runDir, skipped)}/: no manifest.json (a save that was interrupted or is still running); evaluate it once the trainer has finished writing it`,
      });
    }
    checkpoints.push(...steps.map((step) => ({ step, dir: checkpointDir(runDir, step) })));
  }
  checkpoints = checkpoints.sort((a, b) => a.step - b.step);
  if (params.tasks.length === 0) {
    throw new EvalError("UNKNOWN_TASK", "no tasks to evaluate; give at least one task name");
  }
  if (checkpoints.length === 0) {
    throw new EvalError(
      "CHECKPOINT",
      `no complete checkpoints${params.runDir === undefined ? "" : ` in ${params.runDir}`}; a run directory holds step{N}/ folders with manifest.json (as apps/train writes them)`,
    );
  }
  mkdirSync(params.outputDir, { recursive: true });
  const cachePath = join(params.outputDir, "scores.jsonl");
  const results: Record<number, HarnessResults> = {};
  for (const [index, checkpoint] of checkpoints.entries()) {
    params.onEvent?.({
      type: "checkpoint-start",
      step: checkpoint.step,
      dir: checkpoint.dir,
      index,
      count: checkpoints.length,
    });
    const file = join(params.outputDir, `${checkpointName(checkpoint.step)}.json`);
    const previous = readPreviousResults(file, (message) => params.onEvent?.({ type: "warning", message }));
    if (
      previous !== null &&
      params.tasks.every((task) => previous.results[task] !== undefined) &&
      previous.config.num_fewshot === (params.numFewshot ?? 0) &&
      previous.config.limit === (params.limit ?? null)
    ) {
      results[checkpoint.step] = previous;
      params.onEvent?.({ type: "checkpoint-end", step: checkpoint.step, results: previous, reused: true });
      continue;
    }
    const revision = await checkpointRevision(checkpoint.dir);
    const model = await loadCheckpoint({ dir: checkpoint.dir, trainable: false });
    const scorer = new TfjsLoglikelihoodModel({ model });
    try {
      const out = await evaluate({
        model: scorer,
        tokenizer: params.tokenizer,
        tasks: params.tasks,
        dataDir: params.dataDir,
        numFewshot: params.numFewshot ?? 0,
        limit: params.limit ?? null,
        batchSize: params.batchSize ?? 16,
        bootstrapIters: params.bootstrapIters ?? 100_000,
        cache: new ScoreCache({ path: cachePath, revision }),
        modelArgs: `checkpoint=${checkpoint.dir},revision=step${checkpoint.step}`,
        onEvent: (event) => params.onEvent?.({ ...event, step: checkpoint.step }),
        ...(params.signal === undefined ? {} : { signal: params.signal }),
      });
      writeFileAtomic(file, `${JSON.stringify(out, null, 2)}\n`);
      results[checkpoint.step] = out;
      params.onEvent?.({ type: "checkpoint-end", step: checkpoint.step, results: out, reused: false });
    } finally {
      scorer.dispose();
      model.dispose();
    }
  }
  const rows = sweepRows(results);
  writeFileAtomic(join(params.outputDir, "metrics.csv"), sweepToCsv(rows));
  writeFileAtomic(join(params.outputDir, "metrics.json"), `${JSON.stringify(rows, null, 2)}\n`);
  return { rows, results, plots: await plotSweep(rows, join(params.outputDir, "plots")) };
}

/** Names of the `step{N}/` folders of `runDir` that are not among the complete `steps`. */
function incompleteStepDirs(runDir: string, steps: readonly number[]): string[] {
  if (!existsSync(runDir)) {
    return [];
  }
  const complete = new Set(steps);
  return readdirSync(runDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ name: entry.name, step: parseCheckpointName(entry.name) }))
    .filter(
      (entry): entry is { name: string; step: number } => entry.step !== null && !complete.has(entry.step),
    )
    .sort((a, b) => a.step - b.step)
    .map((entry) => entry.name);
}

/**
 * The results a previous sweep wrote to `file`, or null when there are none or they cannot be read
 * (a torn write by an older version): then `warn` is told and the step is evaluated again.
 */
function readPreviousResults(file: string, warn: (message: string) => void): HarnessResults | null {
  if (!existsSync(file)) {
    return null;
  }
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<HarnessResults> | null;
    if (
      parsed === null ||
      typeof parsed !== "object" ||
      typeof parsed.results !== "object" ||
      parsed.results === null ||
      typeof parsed.config !== "object" ||
      parsed.config === null
    ) {
      throw new Error("not a harness results object");
    }
    return parsed as HarnessResults;
  } catch (error) {
    warn(`${file} is unreadable (${(error as Error).message}); evaluating that step again`);
    return null;
  }
}

/** One chart per task: each metric (e.g. acc, acc_norm) against the checkpoint step. */
export async function plotSweep(rows: readonly SweepRow[], dir: string): Promise<WrittenPlot[]> {
  mkdirSync(dir, { recursive: true });
  const written: WrittenPlot[] = [];
  for (const task of [...new Set(rows.map((row) => row.task))]) {
    const ofTask = rows.filter((row) => row.task === task);
    const series = [...new Set(ofTask.map((row) => row.metric))].map((metric) => ({
      name: metric,
      points: ofTask.filter((row) => row.metric === metric).map((row) => [row.step, row.value] as const),
    }));
    const svg = lineChartSvg({ title: `${task} by checkpoint`, xName: "step", yName: "value", series });
    written.push(await writePlot(join(dir, task), svg));
  }
  return written;
}

/** Flattens results per step into rows. */
export function sweepRows(results: Record<number, HarnessResults>): SweepRow[] {
  const rows: SweepRow[] = [];
  for (const step of Object.keys(results)
    .map(Number)
    .sort((a, b) => a - b)) {
    for (const [task, metrics] of Object.entries((results[step] as HarnessResults).results)) {
      for (const [metric, value] of Object.entries(metrics)) {
        if (!metric.endsWith("_stderr")) {
          rows.push({ step, task, metric, value, stderr: metrics[`${metric}_stderr`] ?? null });
        }
      }
    }
  }
  return rows;
}

/** CSV with header `step,task,metric,value,stderr`. */
export function sweepToCsv(rows: readonly SweepRow[]): string {
  const lines = rows.map((row) => [row.step, row.task, row.metric, row.value, row.stderr ?? ""].join(","));
  return `${["step,task,metric,value,stderr", ...lines].join("\n")}\n`;
}
