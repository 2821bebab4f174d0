/**
 * The gender-bias comparison across checkpoints, as Pythia reports it for steps 134000…143000: a
 * baseline run and its intervened rerun (`interventionRun`), evaluated at every checkpoint they share.
 */
import { drain } from "@pythia/core";
import { checkpointDir, completeCheckpointSteps } from "@pythia/core/run";
import { loadCheckpoint } from "@pythia/model";
import { lineChartSvg } from "@pythia/plots";
import type { Tokenizer } from "@pythia/tokenizer";
import { AnalysisError } from "./analysis-errors.js";
import { modelGreedyUntil } from "./arithmetic.js";
import {
  genderBiasEval,
  genderBiasReport,
  type GenderBiasReport,
  type GenderBiasResult,
} from "./gender-bias.js";

/** Parameters of `evaluateGenderBiasCheckpoint`. */
export interface EvaluateGenderBiasCheckpointParams {
  /** A checkpoint directory. */
  dir: string;
  tokenizer: Tokenizer;
  /** The shared bias data directory (`crows-pairs/`, `winobias/`). */
  dataDir: string;
  /** Items per WinoBias subset and CrowS-Pairs pairs at most. */
  limit?: number;
  signal?: AbortSignal;
}

/** Loads a checkpoint and evaluates WinoBias and CrowS-Pairs on it (greedy until "\n", 16 tokens). */
export async function evaluateGenderBiasCheckpoint(
  params: EvaluateGenderBiasCheckpointParams,
): Promise<GenderBiasResult> {
  const model = await loadCheckpoint({ dir: params.dir, trainable: false });
  try {
    return await genderBiasEval({
      model,
      tokenizer: params.tokenizer,
      dataDir: params.dataDir,
      greedyUntil: modelGreedyUntil(model, params.tokenizer),
      limit: params.limit,
      signal: params.signal,
    });
  } finally {
    model.dispose();
  }
}

/** Parameters of `genderBiasSeriesIter`. */
export interface GenderBiasSeriesParams {
  /** The baseline run directory. */
  baselineRun: string;
  /** The intervened run directory. */
  intervenedRun: string;
  /** @default every complete checkpoint both runs have (the intervention window's) */
  steps?: readonly number[];
  /** Evaluates one checkpoint directory (e.g. `evaluateGenderBiasCheckpoint` with fixed data). */
  evaluate: (dir: string) => Promise<GenderBiasResult>;
}

/** Both runs at one checkpoint. */
export interface GenderBiasSeriesPoint {
  step: number;
  baseline: GenderBiasResult;
  intervened: GenderBiasResult;
  report: GenderBiasReport;
}

/** Progress: one checkpoint compared. */
export type GenderBiasSeriesEvent = { type: "checkpoint-compared" } & GenderBiasSeriesPoint;

/**
 * Evaluates both runs at each shared checkpoint, oldest first.
 * @throws AnalysisError (`INPUT`) when the runs share none of the steps asked for.
 */
export async function* genderBiasSeriesIter(
  params: GenderBiasSeriesParams,
): AsyncGenerator<GenderBiasSeriesEvent, GenderBiasSeriesPoint[]> {
  const baseline = await completeCheckpointSteps({ dir: params.baselineRun });
  const intervened = new Set(await completeCheckpointSteps({ dir: params.intervenedRun }));
  const shared = baseline.filter((step) => intervened.has(step));
  const steps = params.steps ?? shared;
  const missing = steps.filter((step) => !shared.includes(step));
  if (steps.length === 0 || missing.length > 0) {
    throw new AnalysisError(
      "INPUT",
      `${params.baselineRun} and ${params.intervenedRun} share the checkpoints ${shared.join(", ") || "none"}${missing.length > 0 ? `; not ${missing.join(", ")}` : ""}`,
    );
  }
  const points: GenderBiasSeriesPoint[] = [];
  for (const step of steps) {
    const before = await params.evaluate(checkpointDir(params.baselineRun, step));
    const after = await params.evaluate(checkpointDir(params.intervenedRun, step));
    const point = { step, baseline: before, intervened: after, report: genderBiasReport(before, after) };
    points.push(point);
    yield { type: "checkpoint-compared", ...point };
  }
  return points;
}

/** Drains `genderBiasSeriesIter`. */
export function genderBiasSeries(
  params: GenderBiasSeriesParams & { onEvent?: (event: GenderBiasSeriesEvent) => void },
): Promise<GenderBiasSeriesPoint[]> {
  return drain(genderBiasSeriesIter(params), params.onEvent);
}

/** Line charts of WinoBias bias and CrowS-Pairs pct_stereotype by checkpoint, baseline vs intervened. */
export function genderBiasSeriesSvgs(
  points: readonly GenderBiasSeriesPoint[],
): Array<{ name: string; svg: string }> {
  const metrics = [
    ["winobias-bias", "WinoBias bias (pro − anti)", (r: GenderBiasResult) => r.winobias.bias],
    [
      "crows-pct-stereotype",
      "CrowS-Pairs gender pct_stereotype",
      (r: GenderBiasResult) => r.crowsPairs.pctStereotype,
    ],
  ] as const;
  return metrics.map(([name, metric, pick]) => ({
    name: `gender-bias-${name}`,
    svg: lineChartSvg({
      title: `${metric} by checkpoint`,
      xName: "step",
      yName: metric,
      series: [
        { name: "baseline", points: points.map((p) => [p.step, pick(p.baseline)] as const) },
        { name: "intervened", points: points.map((p) => [p.step, pick(p.intervened)] as const) },
      ],
    }),
  }));
}
