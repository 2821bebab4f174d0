import { describe, expect, it } from "vitest";
import { tunedLensRowBatches } from "./lens-series.js";
import { seriesSteps } from "./series-steps.js";
import { parseArithmeticOperations } from "./term-frequency-study.js";
import type { CheckpointSeries } from "./training-run.js";

/** A series of checkpoints 0, 1, 2, 4, 8 over 10 rows of 5 tokens; row r holds r·10 + i. */
const series: CheckpointSeries = {
  dir: "/runs/a",
  checkpointSteps: [0, 1, 2, 4, 8],
  checkpointDir: (step) => `/runs/a/step${step}`,
  batchSize: 2,
  rowLength: 5,
  rowCount: 10,
  rows: (start, count) =>
    Array.from({ length: count }, (_, r) => Int32Array.from({ length: 5 }, (_, i) => (start + r) * 10 + i)),
  seenAt: (step) => step * 2,
  close: () => undefined,
};

describe("seriesSteps", () => {
  it("defaults to every checkpoint (after step 0 when asked) and checks the steps given", () => {
    expect(seriesSteps({ series })).toEqual([0, 1, 2, 4, 8]);
    expect(seriesSteps({ series, afterInitialization: true })).toEqual([1, 2, 4, 8]);
    expect(seriesSteps({ series, steps: [2, 8] })).toEqual([2, 8]);
    expect(() => seriesSteps({ series, steps: [2, 3, 5] })).toThrow(
      "steps: /runs/a has no checkpoint step3, step5 (it has 0, 1, 2, 4, 8)",
    );
    expect(() => seriesSteps({ series, steps: [4, 2] })).toThrow("steps must ascend, got 4, 2");
  });
});

describe("parseArithmeticOperations", () => {
  it("accepts Pythia's two operations and names an unknown one", () => {
    expect(parseArithmeticOperations("multiplication,addition")).toEqual(["multiplication", "addition"]);
    expect(() => parseArithmeticOperations("addition,division")).toThrow(
      'unknown operation "division" (multiplication, addition)',
    );
  });
});

describe("tunedLensRowBatches", () => {
  it("takes consecutive rows, wraps within the rows there are, and cuts each to its tokens", () => {
    const batch = tunedLensRowBatches({ series, batchSize: 4, tokens: 3 });
    expect(batch(0)).toEqual([
      [0, 1, 2],
      [10, 11, 12],
      [20, 21, 22],
      [30, 31, 32],
    ]);
    // 7 possible starts (0…6): batch 2 starts at 8 mod 7 = 1.
    expect(batch(2).map((row) => row[0])).toEqual([10, 20, 30, 40]);
    // Without `tokens`, the whole row less its label token.
    expect(tunedLensRowBatches({ series, batchSize: 1 })(9)).toEqual([[90, 91, 92, 93]]);
  });
});
