/**
 * lm-evaluation-harness v0.3.0 `metrics.py`, with Python's float semantics: sequential `sum`, `mean =
 * sum / n`, sample standard deviation with n − 1, and the deterministic chunked bootstrap.
 */
import { PythonRandom } from "@pythia/core";

/** Python `sum(values)`: left to right in float64. */
export function pythonSum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    total += values[i] as number;
  }
  return total;
}

/** `mean(arr) = sum(arr) / len(arr)`. */
export function mean(values: ArrayLike<number>): number {
  return pythonSum(values) / values.length;
}

/** `sample_stddev(arr)`: √(Σ(x − mean)² / (n − 1)). */
export function sampleStddev(values: ArrayLike<number>): number {
  const mu = mean(values);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - mu;
    total += d * d;
  }
  return Math.sqrt(total / (values.length - 1));
}

/** `mean_stderr(arr) = sample_stddev(arr) / √n`, the standard error of `acc`-style means. */
export function meanStderr(values: ArrayLike<number>): number {
  return sampleStddev(values) / Math.sqrt(values.length);
}

/** `perplexity(items) = exp(−mean(items))` over per-document log-likelihoods (LAMBADA `ppl`). */
export function perplexity(logLikelihoods: ArrayLike<number>): number {
  return Math.exp(-mean(logLikelihoods));
}

/** Parameters of `bootstrapStderr`. */
export interface BootstrapStderrParams {
  /** The aggregate to resample, e.g. `perplexity`. */
  metric: (values: number[]) => number;
  values: readonly number[];
  /** Total resamples; the harness default is 100 000. @default 100_000 */
  iterations?: number;
}

/**
 * The harness's `bootstrap_stderr`: `iters // 1000` chunks of `min(1000, iters)` resamples; chunk `i`
 * draws with `random.Random(i).choices(values, k=n)`; the result is the sample standard deviation of
 * all resampled metric values. Deterministic, hence comparable bit for bit.
 */
export function bootstrapStderr(params: BootstrapStderrParams): number {
  const iterations = params.iterations ?? 100_000;
  const chunkSize = Math.min(1000, iterations);
  const chunks = Math.floor(iterations / chunkSize);
  const values = params.values;
  const n = values.length;
  const resampled: number[] = [];
  const draw: number[] = new Array<number>(n);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const rnd = new PythonRandom(chunk);
    for (let i = 0; i < chunkSize; i++) {
      for (let j = 0; j < n; j++) {
        draw[j] = values[Math.floor(rnd.random() * n)] as number;
      }
      resampled.push(params.metric(draw));
    }
  }
  return sampleStddev(resampled);
}

/**
 * `np.argmax(values)`: the first index of the maximum (ties go to the lowest index; NaN wins, as in
 * numpy).
 */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) {
      return i;
    }
    if (v > (values[best] as number)) {
      best = i;
    }
  }
  return best;
}
