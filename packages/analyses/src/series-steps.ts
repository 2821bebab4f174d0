import { checkpointName } from "@pythia/core/run";
import { AnalysisError } from "./analysis-errors.js";
import type { CheckpointSeries } from "./training-run.js";

/** Parameters of `seriesSteps`. */
export interface SeriesStepsParams {
  series: CheckpointSeries;
  /** The steps asked for; every checkpoint of the series when absent. */
  steps?: readonly number[];
  /** Without `steps`, leave out step 0 (the initialisation, which has seen no rows). @default false */
  afterInitialization?: boolean;
}

/**
 * The checkpoint steps an analysis runs over, checked before hours of work: each must be a checkpoint
 * of the series, in ascending order.
 * @throws AnalysisError (`INPUT`) naming the missing steps and those the series has.
 */
export function seriesSteps(params: SeriesStepsParams): number[] {
  const { series } = params;
  const steps = params.steps
    ? [...params.steps]
    : series.checkpointSteps.filter((step) => !params.afterInitialization || step > 0);
  const missing = steps.filter((step) => !series.checkpointSteps.includes(step));
  if (missing.length > 0) {
    throw new AnalysisError(
      "INPUT",
      `steps: ${series.dir} has no checkpoint ${missing.map(checkpointName).join(", ")} (it has ${series.checkpointSteps.join(", ")})`,
    );
  }
  if (steps.some((step, i) => i > 0 && step <= (steps[i - 1] as number))) {
    throw new AnalysisError("INPUT", `steps must ascend, got ${steps.join(", ")}`);
  }
  return steps;
}
