/**
 * Plots as echarts server-side SVG, and PNG through @resvg/resvg-js when that optional native
 * dependency loads (otherwise only the SVG is written).
 */
import { renderChartSvg, writePlot } from "@pythia/plots";
import type { PoissonCheckResult } from "./poisson-check.js";

export { writePlot };

function render(option: Record<string, unknown>, width = 800, height = 600): string {
  return renderChartSvg(option, { width, height });
}

/** Q-Q plot of memorized counts per bin against Poisson(λ̂) quantiles, y = x reference, size = multiplicity. */
export function poissonQqSvg(
  result: PoissonCheckResult,
  title = "Memorized sequences per bin: Q-Q vs Poisson",
): string {
  const max = Math.max(1, ...result.qq.map((p) => Math.max(p.theoretical, p.empirical)));
  return render({
    title: {
      text: title,
      subtext: `λ̂ = ${result.lambda.toFixed(3)}, bins of ${result.binSize}`,
      left: "center",
    },
    xAxis: { type: "value", name: "Poisson quantile", min: 0, max },
    yAxis: { type: "value", name: "observed count", min: 0, max },
    series: [
      {
        type: "scatter",
        data: result.qq.map((p) => [p.theoretical, p.empirical, p.count]),
        symbolSize: (value: number[]) => 6 + Math.sqrt(value[2] ?? 1) * 3,
      },
      {
        type: "line",
        data: [
          [0, 0],
          [max, max],
        ],
        showSymbol: false,
        lineStyle: { type: "dashed" },
      },
    ],
  });
}

/** Accuracy vs operand frequency (log x), one series per checkpoint. */
export function accuracyFrequencySvg(
  series: ReadonlyArray<{ label: string; points: ReadonlyArray<{ frequency: number; accuracy: number }> }>,
  title = "Accuracy vs term frequency",
): string {
  return render({
    title: { text: title, left: "center" },
    legend: { top: 30 },
    xAxis: { type: "log", name: "operand frequency", logBase: 10 },
    yAxis: { type: "value", name: "accuracy", min: 0, max: 1 },
    series: series.map((s) => ({
      name: s.label,
      type: "scatter",
      data: s.points.map((p) => [Math.max(1, p.frequency), p.accuracy]),
    })),
  });
}

/** A heatmap (rows × columns), e.g. mean KL per layer × checkpoint. */
export function heatmapSvg(params: {
  title: string;
  rows: readonly string[];
  columns: readonly string[];
  /** values[row][column] */
  values: ReadonlyArray<ReadonlyArray<number>>;
  rowName?: string;
  columnName?: string;
}): string {
  const data: number[][] = [];
  let max = 0;
  params.values.forEach((row, r) =>
    row.forEach((value, c) => {
      data.push([c, r, value]);
      max = Math.max(max, value);
    }),
  );
  return render({
    title: { text: params.title, left: "center" },
    grid: { bottom: 90 },
    xAxis: { type: "category", data: [...params.columns], name: params.columnName },
    yAxis: { type: "category", data: [...params.rows], name: params.rowName },
    visualMap: { min: 0, max: max || 1, calculable: false, orient: "horizontal", left: "center", bottom: 10 },
    series: [
      {
        type: "heatmap",
        data,
        label: { show: true, formatter: (p: { value: number[] }) => (p.value[2] ?? 0).toFixed(2) },
      },
    ],
  });
}
