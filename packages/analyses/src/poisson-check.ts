/**
 * The Pythia paper's Poisson point-process check (`eda.ipynb` "KS Test & Q-Q plot"): treat training
 * order as time, count memorized sequences per bin of consecutive sequences, fit Poisson(λ̂ = mean
 * count), and test the fit. Two statistics: Pearson's chi-square on the distribution of counts
 * (categories pooled until each expects ≥ 5 bins, df = categories − 2 for the fitted λ), and the
 * index-of-dispersion test (Σ(x − x̄)²/x̄ ~ χ²(n − 1)), which catches a trend over time (a front-loaded
 * stream is over-dispersed). The fit is accepted when neither rejects at α/2 (Bonferroni).
 */
import { AnalysisError } from "./analysis-errors.js";
import { chiSquareSurvival, poissonCdf, poissonPmf, poissonQuantile } from "./statistics.js";

/** Parameters of `poissonCheck`. */
export interface PoissonCheckParams {
  /** 1 (memorized) / 0 per sequence, in training order. */
  memorized: ArrayLike<number>;
  /** Sequences per bin; a trailing partial bin is dropped. @default 512 */
  binSize?: number;
  /** Significance level. @default 0.05 */
  alpha?: number;
}

/** A test statistic with its p-value. */
export interface TestStatistic {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
}

/** What `poissonCheck` returns. */
export interface PoissonCheckResult {
  binSize: number;
  bins: number;
  /** Memorized sequences per bin. */
  counts: number[];
  /** λ̂ = mean count per bin. */
  lambda: number;
  variance: number;
  /** Pearson chi-square on the count distribution (null with fewer than 2 categories after pooling). */
  chiSquare:
    | (TestStatistic & {
        categories: Array<{ from: number; to: number | null; observed: number; expected: number }>;
      })
    | null;
  dispersion: TestStatistic;
  alpha: number;
  /** True when neither test rejects Poisson(λ̂) at α/2. */
  accepted: boolean;
  /** Q-Q points: Poisson(λ̂) quantiles at plotting positions (i − 0.5)/n against the sorted counts, with multiplicity. */
  qq: Array<{ theoretical: number; empirical: number; count: number }>;
}

/** Bins the memorized flags and tests them against a Poisson distribution. */
export function poissonCheck(params: PoissonCheckParams): PoissonCheckResult {
  const binSize = params.binSize ?? 512;
  const alpha = params.alpha ?? 0.05;
  if (!Number.isInteger(binSize) || binSize < 1) {
    throw new AnalysisError("INPUT", `poissonCheck: binSize must be a positive integer, got ${binSize}`);
  }
  if (!(alpha > 0 && alpha < 1)) {
    throw new AnalysisError("INPUT", `poissonCheck: alpha must be in (0, 1), got ${alpha}`);
  }
  const bins = Math.floor(params.memorized.length / binSize);
  if (bins < 2) {
    throw new AnalysisError(
      "INPUT",
      `poissonCheck: ${params.memorized.length} sequences make ${bins} full bin(s) of ${binSize}; score more sequences or lower the bin size`,
    );
  }
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < bins * binSize; i++) {
    if (params.memorized[i]) {
      const bin = Math.floor(i / binSize);
      counts[bin] = (counts[bin] ?? 0) + 1;
    }
  }
  const lambda = counts.reduce((a, b) => a + b, 0) / bins;
  const variance = counts.reduce((a, c) => a + (c - lambda) ** 2, 0) / (bins - 1);
  const dispersionStatistic = lambda === 0 ? 0 : ((bins - 1) * variance) / lambda;
  const dispersion: TestStatistic = {
    statistic: dispersionStatistic,
    degreesOfFreedom: bins - 1,
    pValue: lambda === 0 ? 1 : chiSquareSurvival(dispersionStatistic, bins - 1),
  };
  const chiSquare = pearsonChiSquare(counts, lambda);
  const accepted = dispersion.pValue >= alpha / 2 && (chiSquare === null || chiSquare.pValue >= alpha / 2);
  return {
    binSize,
    bins,
    counts,
    lambda,
    variance,
    chiSquare,
    dispersion,
    alpha,
    accepted,
    qq: qqPoints(counts, lambda),
  };
}

function pearsonChiSquare(counts: readonly number[], lambda: number): PoissonCheckResult["chiSquare"] {
  const n = counts.length;
  const max = Math.max(...counts);
  // Categories 0, 1, …, max − 1 and "≥ max"; pooled left to right until each expects ≥ 5.
  const raw: Array<{ from: number; to: number | null; observed: number; expected: number }> = [];
  for (let k = 0; k <= max; k++) {
    const expected = k === max ? n * (1 - poissonCdf(k - 1, lambda)) : n * poissonPmf(k, lambda);
    raw.push({ from: k, to: k === max ? null : k, observed: counts.filter((c) => c === k).length, expected });
  }
  const pooled: typeof raw = [];
  for (const category of raw) {
    const last = pooled.at(-1);
    if (last !== undefined && last.expected < 5) {
      last.to = category.to;
      last.observed += category.observed;
      last.expected += category.expected;
    } else {
      pooled.push({ ...category });
    }
  }
  while (pooled.length > 1 && (pooled.at(-1) as (typeof raw)[number]).expected < 5) {
    const tail = pooled.pop() as (typeof raw)[number];
    const last = pooled.at(-1) as (typeof raw)[number];
    last.to = tail.to;
    last.observed += tail.observed;
    last.expected += tail.expected;
  }
  const degreesOfFreedom = pooled.length - 2;
  if (degreesOfFreedom < 1) {
    return null;
  }
  const statistic = pooled.reduce((a, c) => a + (c.observed - c.expected) ** 2 / c.expected, 0);
  return {
    statistic,
    degreesOfFreedom,
    pValue: chiSquareSurvival(statistic, degreesOfFreedom),
    categories: pooled,
  };
}

function qqPoints(counts: readonly number[], lambda: number): PoissonCheckResult["qq"] {
  const sorted = [...counts].sort((a, b) => a - b);
  const n = sorted.length;
  const points = new Map<string, { theoretical: number; empirical: number; count: number }>();
  sorted.forEach((empirical, i) => {
    const theoretical = poissonQuantile((i + 0.5) / n, lambda);
    const key = `${theoretical},${empirical}`;
    const point = points.get(key) ?? { theoretical, empirical, count: 0 };
    point.count++;
    points.set(key, point);
  });
  return [...points.values()];
}
