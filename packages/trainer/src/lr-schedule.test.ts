import { describe, expect, it } from "vitest";
import { learningRateAt } from "./index.js";

const pythia = { maxLr: 1e-3, minLr: 1e-4, decaySteps: 143000, warmupFraction: 0.01 };

describe("learningRateAt (GPT-NeoX AnnealingLR, cosine)", () => {
  // Vectors computed from the reference formula (shared/docs/pythia-reference.md §4.3).
  const vectors: Array<[number, number]> = [
    [0, 0],
    [1, 6.993007e-7],
    [2, 1.3986014e-6],
    [715, 5.0e-4],
    [1430, 1.0e-3],
    [1431, 0.99999999988e-3],
    [10000, 9.911642e-4],
    [50000, 7.41358e-4],
    [71500, 5.157054e-4],
    [100000, 2.198675e-4],
    [115000, 1.0091741e-4],
    [115200, 1e-4],
    [143000, 1e-4],
  ];
  it.each(vectors)("lr(%i) = %f", (n, expected) => {
    expect(Math.abs(learningRateAt(n, pythia) - expected)).toBeLessThanOrEqual(
      1e-7 * Math.max(expected, 1e-3) + 1e-12,
    );
  });

  it("hits the floor at step 115139, not at the end (the division-by-E quirk)", () => {
    expect(learningRateAt(115138, pythia)).toBeGreaterThan(1e-4);
    expect(learningRateAt(115139, pythia)).toBe(1e-4);
  });

  it("is the plain cosine without warmup", () => {
    expect(learningRateAt(0, { ...pythia, warmupFraction: 0 })).toBe(1e-3);
  });
});
