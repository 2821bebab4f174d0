/**
 * Choosing LSH bands and rows for a Jaccard threshold, the way `datasketch.MinHashLSH` does
 * (`datasketch/lsh.py`, `_optimal_param`).
 *
 * With `b` bands of `r` rows, two documents whose true Jaccard similarity is `s` share at least one
 * band with probability `P(s) = 1 − (1 − s^r)^b`. For a threshold `t`:
 *
 *   false positive area  FP(b, r) = ∫₀ᵗ P(s) ds
 *   false negative area  FN(b, r) = ∫ₜ¹ (1 − P(s)) ds
 *
 * and the chosen `(b, r)` minimises `w_fp · FP + w_fn · FN` over every `b ≥ 1`, `1 ≤ r ≤ ⌊numPerm / b⌋`,
 * scanning `b` then `r` upwards and keeping the first strict minimum (datasketch's tie rule).
 * datasketch integrates with `scipy.integrate.quad`; here adaptive Gauss–Kronrod (7/15 points, the
 * rule QUADPACK's `qags` starts from) to a tolerance of 1e-12 does the same job.
 */
import { DataloaderError } from "./errors.js";

/** Bands and rows of an LSH index, with the two error areas they give at the threshold. */
export interface LshParameters {
  /** Number of bands `b` (hash tables). */
  bands: number;
  /** Rows `r` per band (signature values hashed together). */
  rows: number;
  /** `∫₀ᵗ 1 − (1 − s^r)^b ds`: the false-positive area below the threshold. */
  falsePositiveArea: number;
  /** `∫ₜ¹ (1 − s^r)^b ds`: the false-negative area above the threshold. */
  falseNegativeArea: number;
}

/** Parameters of `optimalLshParameters`. */
export interface OptimalLshParametersParams {
  /** Jaccard threshold in [0, 1]. */
  threshold: number;
  /** MinHash signature length (datasketch's `num_perm`). */
  numPerm: number;
  /** Weight of the false-positive area. @default 0.5 */
  falsePositiveWeight?: number;
  /** Weight of the false-negative area. @default 0.5 */
  falseNegativeWeight?: number;
}

/** Probability that two sets with Jaccard similarity `s` share at least one of `bands` bands of `rows` rows. */
export function candidateProbability(similarity: number, bands: number, rows: number): number {
  return 1 - (1 - similarity ** rows) ** bands;
}

/** `∫₀ᵗ P(s) ds`: the false-positive area of `(bands, rows)` at `threshold` (datasketch's `_false_positive_probability`). */
export function falsePositiveArea(threshold: number, bands: number, rows: number): number {
  return integrate((s) => candidateProbability(s, bands, rows), 0, threshold);
}

/** `∫ₜ¹ 1 − P(s) ds`: the false-negative area of `(bands, rows)` at `threshold` (datasketch's `_false_negative_probability`). */
export function falseNegativeArea(threshold: number, bands: number, rows: number): number {
  return integrate((s) => 1 - candidateProbability(s, bands, rows), threshold, 1);
}

/**
 * The `(bands, rows)` that `datasketch.MinHashLSH(threshold, num_perm, weights)` picks (see the file
 * comment for the formula).
 * @throws DataloaderError (`DATASET_INPUT`) for a threshold outside [0, 1], `numPerm < 2`, weights
 * outside [0, 1], or when the optimum has a single band (datasketch refuses those too).
 */
export function optimalLshParameters(params: OptimalLshParametersParams): LshParameters {
  const { threshold, numPerm } = params;
  const fpWeight = params.falsePositiveWeight ?? 0.5;
  const fnWeight = params.falseNegativeWeight ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new DataloaderError("DATASET_INPUT", `threshold must be in [0, 1], got ${threshold}`);
  }
  if (!Number.isInteger(numPerm) || numPerm < 2) {
    throw new DataloaderError("DATASET_INPUT", `numPerm must be an integer >= 2, got ${numPerm}`);
  }
  for (const weight of [fpWeight, fnWeight]) {
    if (!(weight >= 0 && weight <= 1)) {
      throw new DataloaderError("DATASET_INPUT", `LSH weights must be in [0, 1], got ${weight}`);
    }
  }
  let best: LshParameters = { bands: 0, rows: 0, falsePositiveArea: NaN, falseNegativeArea: NaN };
  let bestError = Infinity;
  for (let bands = 1; bands <= numPerm; bands++) {
    const maxRows = Math.floor(numPerm / bands);
    for (let rows = 1; rows <= maxRows; rows++) {
      const fp = falsePositiveArea(threshold, bands, rows);
      const fn = falseNegativeArea(threshold, bands, rows);
      const error = fp * fpWeight + fn * fnWeight;
      if (error < bestError) {
        bestError = error;
        best = { bands, rows, falsePositiveArea: fp, falseNegativeArea: fn };
      }
    }
  }
  if (best.bands < 2) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `threshold ${threshold} with numPerm ${numPerm} gives a single LSH band of ${best.rows} rows, ` +
        "which cannot find candidates reliably (datasketch refuses it too): use a larger numPerm",
    );
  }
  return best;
}

// Gauss–Kronrod 7/15 nodes on [-1, 1] (non-negative half, descending) and weights (QUADPACK qk15).
const KRONROD_NODES = [
  0.9914553711208126, 0.9491079123427585, 0.8648644233597691, 0.7415311855993945, 0.5860872354676911,
  0.4058451513773972, 0.20778495500789848, 0,
];
const KRONROD_WEIGHTS = [
  0.022935322010529224, 0.06309209262997856, 0.10479001032225019, 0.14065325971552592, 0.1690047266392679,
  0.19035057806478542, 0.20443294007529889, 0.20948214108472782,
];
/** Gauss weights of the 7-point rule, for the Kronrod nodes with odd index (1, 3, 5, 7). */
const GAUSS_WEIGHTS = [0.1294849661688697, 0.27970539148927664, 0.3818300505051189, 0.4179591836734694];

/** Adaptive Gauss–Kronrod 7/15 quadrature of `f` over [a, b] (absolute and relative tolerance 1e-12). */
function integrate(f: (x: number) => number, a: number, b: number, depth = 0): number {
  const center = (a + b) / 2;
  const half = (b - a) / 2;
  let kronrod = (KRONROD_WEIGHTS[7] as number) * f(center);
  let gauss = (GAUSS_WEIGHTS[3] as number) * f(center);
  for (let j = 0; j < 7; j++) {
    const dx = half * (KRONROD_NODES[j] as number);
    const sum = f(center - dx) + f(center + dx);
    kronrod += (KRONROD_WEIGHTS[j] as number) * sum;
    if (j % 2 === 1) {
      gauss += (GAUSS_WEIGHTS[(j - 1) / 2] as number) * sum;
    }
  }
  kronrod *= half;
  gauss *= half;
  if (depth >= 40 || Math.abs(kronrod - gauss) <= Math.max(1e-12, 1e-12 * Math.abs(kronrod))) {
    return kronrod;
  }
  return integrate(f, a, center, depth + 1) + integrate(f, center, b, depth + 1);
}
