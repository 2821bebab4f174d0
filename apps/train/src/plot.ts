/**
 * The loss curve of a run: `plots/loss.svg` (echarts, server-side SVG) and `plots/loss.png` (the SVG
 * rasterised by @resvg/resvg-js, an optional native dependency; without it only the SVG is written).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { lineChartSvg, writePlot, type WrittenPlot } from "@pythia/plots";
import { readMetrics, type MetricsRecord } from "@pythia/core/run";

/** Parameters of `plotLossCurve`. */
export interface PlotLossCurveParams {
  /** The run directory (reads `metrics.jsonl`, writes `plots/`). */
  out: string;
  title: string;
}

/** What `plotLossCurve` wrote (`png` is null, with the reason, when @resvg/resvg-js could not load). */
export type PlotResult = WrittenPlot;

/** The loss-curve SVG for metrics records: train loss per step and validation loss. */
export function lossCurveSvg(metrics: readonly MetricsRecord[], options: { title: string }): string {
  const points = (type: MetricsRecord["type"]) =>
    metrics.filter((line) => line.type === type).map((line) => [line.step, line.loss] as const);
  return lineChartSvg({
    title: options.title,
    xName: "step",
    yName: "loss (nats/token)",
    series: [
      { name: "train", points: points("train") },
      { name: "validation", points: points("eval") },
    ],
  });
}

/** Writes `plots/loss.svg` and, when @resvg/resvg-js loads, `plots/loss.png`. */
export async function plotLossCurve(params: PlotLossCurveParams): Promise<PlotResult> {
  const dir = join(params.out, "plots");
  mkdirSync(dir, { recursive: true });
  return writePlot(join(dir, "loss"), lossCurveSvg(readMetrics({ dir: params.out }), params));
}
