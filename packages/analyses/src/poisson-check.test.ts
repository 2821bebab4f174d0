import { describe, expect, it } from "vitest";
import { poissonCheck } from "./poisson-check.js";
import { chiSquareSurvival, poissonQuantile } from "./statistics.js";

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

describe("poissonCheck", () => {
  it("matches reference chi-square and Poisson quantiles", () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 6); // scipy.stats.chi2.sf
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 6);
    expect(poissonQuantile(0.5, 3)).toBe(3); // scipy.stats.poisson.ppf(0.5, 3)
    expect(poissonQuantile(0.95, 10)).toBe(15);
  });

  it("accepts a simulated Poisson stream and rejects a front-loaded one", () => {
    const random = lcg(42);
    const n = 512 * 200;
    const uniform = Uint8Array.from({ length: n }, () => (random() < 0.01 ? 1 : 0));
    const accepted = poissonCheck({ memorized: uniform });
    expect(accepted.bins).toBe(200);
    expect(accepted.lambda).toBeGreaterThan(4);
    expect(accepted.chiSquare).not.toBeNull();
    expect(accepted.accepted).toBe(true);
    // Same total, but memorized sequences concentrated early in training.
    const frontLoaded = Uint8Array.from({ length: n }, (_, i) =>
      random() < 0.04 * Math.exp(-i / (n / 5)) * 1.25 ? 1 : 0,
    );
    const rejected = poissonCheck({ memorized: frontLoaded });
    expect(rejected.accepted).toBe(false);
    expect(rejected.dispersion.pValue).toBeLessThan(1e-6);
  });

  it("q-q points cover every bin", () => {
    const result = poissonCheck({
      memorized: Uint8Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      binSize: 4,
    });
    expect(result.qq.reduce((a, p) => a + p.count, 0)).toBe(10);
    expect(result.counts.reduce((a, b) => a + b, 0)).toBe(14);
  });
});
