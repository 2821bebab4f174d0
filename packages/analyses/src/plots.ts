/**
 * The analyses' charts as echarts server-side SVG (`writePlot` of @pythia/plots writes them, with a
 * PNG when @resvg/resvg-js loads).
 */
import { renderChartSvg } from "@pythia/plots";
import type { PoissonCheckResult } from "./poisson-check.js";

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

/** One log-spaced frequency bin with the mean accuracy of the operands in it. */
export interface FrequencyBin {
  low: number;
  high: number;
  /** Geometric centre, where the bin is plotted. */
  center: number;
  accuracy: number;
  operands: number;
}

/**
 * Pythia's accuracy-vs-frequency curve: operands grouped into `bins` log-spaced frequency bins over
 * `[min, max]` (Pythia: 20 bins from 1e5 to 2e8; default: the data's range), mean accuracy per
 * non-empty bin. Frequencies below 1 count as 1; operands outside `[min, max]` are left out.
 */
export function logFrequencyBins(
  points: ReadonlyArray<{ frequency: number; accuracy: number }>,
  options: { bins?: number; min?: number; max?: number } = {},
): FrequencyBin[] {
  const bins = options.bins ?? 20;
  const frequencies = points.map((p) => Math.max(1, p.frequency));
  const min = options.min ?? Math.min(...frequencies);
  const max = options.max ?? Math.max(...frequencies);
  if (points.length === 0 || !(max >= min && min >= 1) || !Number.isInteger(bins) || bins < 1) {
    return [];
  }
  const logMin = Math.log(min);
  const width = (Math.log(max) - logMin) / bins;
  const sums = new Array<number>(bins).fill(0);
  const counts = new Array<number>(bins).fill(0);
  for (const [i, point] of points.entries()) {
    const frequency = frequencies[i] as number;
    if (frequency < min || frequency > max) {
      continue;
    }
    const bin =
      width === 0 ? 0 : Math.min(bins - 1, Math.floor((Math.log(frequency) - logMin) / width + 1e-9)); // edges exact despite rounding
    sums[bin] = (sums[bin] as number) + point.accuracy;
    counts[bin] = (counts[bin] as number) + 1;
  }
  const out: FrequencyBin[] = [];
  for (let bin = 0; bin < bins; bin++) {
    const count = counts[bin] as number;
    if (count > 0) {
      const low = Math.exp(logMin + bin * width);
      const high = Math.exp(logMin + (bin + 1) * width);
      out.push({
        low,
        high,
        center: Math.sqrt(low * high),
        accuracy: (sums[bin] as number) / count,
        operands: count,
      });
    }
  }
  return out;
}

/**
 * Accuracy vs operand frequency (log x), one line per checkpoint through the log-binned mean
 * accuracies (`logFrequencyBins`), over the operands as faint points.
 */
export function accuracyFrequencySvg(
  series: ReadonlyArray<{ label: string; points: ReadonlyArray<{ frequency: number; accuracy: number }> }>,
  title = "Accuracy vs term frequency",
  binning: { bins?: number; min?: number; max?: number } = {},
): string {
  const all = series.flatMap((s) => s.points.map((p) => Math.max(1, p.frequency)));
  const range = {
    min: binning.min ?? Math.min(...all),
    max: binning.max ?? Math.max(...all),
    bins: binning.bins,
  };
  return render({
    title: { text: title, left: "center" },
    legend: { top: 30, data: series.map((s) => s.label) },
    xAxis: { type: "log", name: "operand frequency", logBase: 10, nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "value", name: "accuracy", min: 0, max: 1 },
    series: series.flatMap((s) => [
      {
        name: s.label,
        type: "line",
        data: logFrequencyBins(s.points, range).map((bin) => [bin.center, bin.accuracy]),
      },
      {
        name: s.label,
        type: "scatter",
        symbolSize: 4,
        itemStyle: { opacity: 0.3 },
        data: s.points.map((p) => [Math.max(1, p.frequency), p.accuracy]),
      },
    ]),
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

/** Memorization across checkpoints: the fraction of seen sequences memorized and the mean score, by step. */
export function memorizationByStepSvg(
  checkpoints: ReadonlyArray<{ step: number; count: number; memorizedCount: number; meanScore: number }>,
  title = "Memorization by checkpoint",
): string {
  const points = [...checkpoints].sort((a, b) => a.step - b.step);
  return render({
    title: { text: title, left: "center" },
    legend: { top: 30 },
    grid: { top: 70, left: 70, right: 30, bottom: 60 },
    xAxis: { type: "value", name: "step", nameLocation: "middle", nameGap: 30 },
    yAxis: { type: "value", name: "fraction", min: 0, max: 1 },
    series: [
      {
        name: "memorized (score = 1)",
        type: "line",
        data: points.map((c) => [c.step, c.count === 0 ? 0 : c.memorizedCount / c.count]),
      },
      { name: "mean memorization score", type: "line", data: points.map((c) => [c.step, c.meanScore]) },
    ],
  });
}

/** The gender-bias report's headline metrics, before and after the intervention, as grouped bars. */
export function genderBiasReportSvg(
  report: {
    before: { winobias: { bias: number; accuracy: number }; crowsPairs: { pctStereotype: number } };
    after: { winobias: { bias: number; accuracy: number }; crowsPairs: { pctStereotype: number } };
  },
  title = "Gender bias before and after the intervention",
): string {
  const metrics = ["WinoBias bias (pro − anti)", "WinoBias accuracy", "CrowS pct_stereotype"];
  const values = (r: typeof report.before) => [
    r.winobias.bias,
    r.winobias.accuracy,
    r.crowsPairs.pctStereotype,
  ];
  return render({
    title: { text: title, left: "center" },
    legend: { top: 30 },
    grid: { top: 70, left: 70, right: 30, bottom: 60 },
    xAxis: { type: "category", data: metrics },
    yAxis: { type: "value" },
    series: [
      { name: "baseline", type: "bar", data: values(report.before) },
      { name: "intervened", type: "bar", data: values(report.after) },
    ],
  });
}
