import { describe, expect, it } from "vitest";
import {
  candidateProbability,
  falseNegativeArea,
  falsePositiveArea,
  optimalLshParameters,
} from "./lsh-parameters.js";

// Expected values: datasketch's `_optimal_param(threshold, num_perm, 0.5, 0.5)` formula run in CPython
// 3 with scipy 1.17.1's `integrate.quad` (the code datasketch runs; datasketch itself is not installable
// here), i.e. the fifteen lines of `datasketch/lsh.py` re-typed into a script on 2026-12-03. (0.9, 128)
// -> (5, 25) is also the example in datasketch's own docstring.
const DATASKETCH: Array<
  [threshold: number, numPerm: number, bands: number, rows: number, fp: number, fn: number]
> = [
  [0.87, 128, 7, 18, 0.023133942255340764, 0.020945812591189827],
  [0.9, 128, 5, 25, 0.011558312354277636, 0.025318546609254904],
  [0.5, 128, 25, 5, 0.053721591197238995, 0.03375250944883258],
  [0.8, 256, 17, 15, 0.026032526042525827, 0.023839564555202638],
  [0.7, 64, 8, 8, 0.032322906029218765, 0.052313612965481954],
  [0.95, 200, 4, 48, 0.0062006551249049165, 0.014018812420480626],
  [0.87, 256, 11, 23, 0.014652986551219781, 0.02287286298806874],
  [0.5, 10, 3, 3, 0.04362444196428572, 0.1221958705357143],
  [0.3, 32, 12, 2, 0.08183179878720703, 0.03000114996369242],
];

/**
 * Exact `∫₀ᵗ (1 − s^r)^b ds = Σₖ C(b,k) (−1)^k t^(rk+1) / (rk+1)` in rational arithmetic (BigInt), for a
 * threshold with few decimals: an independent check of the quadrature.
 */
function exactNoCandidateArea(threshold: number, bands: number, rows: number): number {
  const scale = 100n;
  const p = BigInt(Math.round(threshold * 100));
  // Common denominator: scale^(r·b + 1) · lcm-free product handled term by term at 60 digits.
  const digits = 10n ** 60n;
  let sum = 0n;
  let binomial = 1n;
  for (let k = 0; k <= bands; k++) {
    const power = rows * k + 1;
    const numerator = binomial * p ** BigInt(power) * digits;
    const term = numerator / (scale ** BigInt(power) * BigInt(power));
    sum += k % 2 === 0 ? term : -term;
    binomial = (binomial * BigInt(bands - k)) / BigInt(k + 1);
  }
  return Number(sum) / Number(digits);
}

describe("optimalLshParameters", () => {
  it.each(DATASKETCH)(
    "threshold %s, numPerm %s -> %s bands x %s rows, as datasketch",
    (threshold, numPerm, bands, rows, fp, fn) => {
      const chosen = optimalLshParameters({ threshold, numPerm });
      expect([chosen.bands, chosen.rows]).toEqual([bands, rows]);
      expect(chosen.falsePositiveArea).toBeCloseTo(fp, 10);
      expect(chosen.falseNegativeArea).toBeCloseTo(fn, 10);
    },
  );

  it("the quadrature equals the exact binomial expansion", () => {
    for (const [threshold, bands, rows] of [
      [0.87, 7, 18],
      [0.5, 25, 5],
      [0.9, 5, 25],
      [0.3, 12, 2],
    ] as const) {
      const noCandidateBelow = exactNoCandidateArea(threshold, bands, rows);
      expect(falsePositiveArea(threshold, bands, rows)).toBeCloseTo(threshold - noCandidateBelow, 12);
      // ∫ₜ¹ (1 − s^r)^b ds = ∫₀¹ − ∫₀ᵗ
      const noCandidateAll = exactNoCandidateArea(1, bands, rows);
      expect(falseNegativeArea(threshold, bands, rows)).toBeCloseTo(noCandidateAll - noCandidateBelow, 12);
    }
  });

  it("the chosen pair minimises 0.5 FP + 0.5 FN over the whole grid", () => {
    const chosen = optimalLshParameters({ threshold: 0.87, numPerm: 128 });
    const best = 0.5 * chosen.falsePositiveArea + 0.5 * chosen.falseNegativeArea;
    for (let bands = 1; bands <= 128; bands++) {
      for (let rows = 1; rows * bands <= 128; rows++) {
        const error = 0.5 * falsePositiveArea(0.87, bands, rows) + 0.5 * falseNegativeArea(0.87, bands, rows);
        expect(error).toBeGreaterThanOrEqual(best);
      }
    }
  });

  it("weights move the choice: favouring recall adds bands", () => {
    const recall = optimalLshParameters({
      threshold: 0.87,
      numPerm: 128,
      falsePositiveWeight: 0.2,
      falseNegativeWeight: 0.8,
    });
    const balanced = optimalLshParameters({ threshold: 0.87, numPerm: 128 });
    expect(candidateProbability(0.87, recall.bands, recall.rows)).toBeGreaterThan(
      candidateProbability(0.87, balanced.bands, balanced.rows),
    );
  });

  it("refuses a single band and bad inputs, like datasketch", () => {
    // datasketch: MinHashLSH(0.87, num_perm=10) raises "The number of bands are too small (b < 2)".
    expect(() => optimalLshParameters({ threshold: 0.87, numPerm: 10 })).toThrow(
      /single LSH band of 10 rows/,
    );
    expect(() => optimalLshParameters({ threshold: 1.5, numPerm: 128 })).toThrow(
      /threshold must be in \[0, 1\]/,
    );
    expect(() => optimalLshParameters({ threshold: 0.5, numPerm: 1 })).toThrow(
      /numPerm must be an integer >= 2/,
    );
  });
});
