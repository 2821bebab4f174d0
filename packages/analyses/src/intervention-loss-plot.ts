import { readMetrics } from "@pythia/core/run";
import { lineChartSvg } from "@pythia/plots";

/**
 * Training loss of a baseline run and its intervened rerun over the intervention window (the steps
 * after `resumeStep`), from each run's `metrics.jsonl`.
 */
export function interventionLossSvg(params: {
  baseline: string;
  intervened: string;
  resumeStep: number;
  fromStep: number;
}): string {
  const losses = (dir: string) =>
    readMetrics({ dir })
      .filter((record) => record.type === "train" && record.step > params.resumeStep)
      .map((record) => [record.step, record.loss] as const);
  return lineChartSvg({
    title: `Training loss: baseline vs pronoun swap from step ${params.fromStep}`,
    xName: "step",
    yName: "loss",
    series: [
      { name: "baseline", points: losses(params.baseline) },
      { name: "intervened", points: losses(params.intervened) },
    ],
  });
}
