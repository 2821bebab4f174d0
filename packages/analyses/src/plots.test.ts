import { describe, expect, it } from "vitest";
import {
  accuracyFrequencySvg,
  genderBiasReportSvg,
  logFrequencyBins,
  memorizationByStepSvg,
} from "./plots.js";

describe("accuracy vs frequency", () => {
  it("bins operands by log frequency and averages their accuracy", () => {
    const points = [
      { frequency: 1e5, accuracy: 0 },
      { frequency: 2e5, accuracy: 0.5 },
      { frequency: 1e6, accuracy: 0.2 },
      { frequency: 9e6, accuracy: 0.4 },
      { frequency: 1e7, accuracy: 1 },
      { frequency: 5e8, accuracy: 1 }, // above max: left out
    ];
    const bins = logFrequencyBins(points, { bins: 2, min: 1e5, max: 1e7 });
    // Two bins: [1e5, 1e6) and [1e6, 1e7]; the top edge belongs to the last bin.
    expect(bins.map((b) => [b.operands, b.accuracy])).toEqual([
      [2, 0.25],
      [3, (0.2 + 0.4 + 1) / 3],
    ]);
    expect(bins[0]?.low).toBeCloseTo(1e5, 0);
    expect(bins[0]?.center).toBeCloseTo(Math.sqrt(1e5 * 1e6), 0);
    expect(logFrequencyBins([{ frequency: 0, accuracy: 1 }])).toEqual([
      { low: 1, high: 1, center: 1, accuracy: 1, operands: 1 },
    ]);
    expect(logFrequencyBins([])).toEqual([]);
  });

  it("draws one line per checkpoint", () => {
    const svg = accuracyFrequencySvg([
      {
        label: "step1000",
        points: [
          { frequency: 10, accuracy: 0.1 },
          { frequency: 1000, accuracy: 0.3 },
        ],
      },
      {
        label: "step2000",
        points: [
          { frequency: 20, accuracy: 0.2 },
          { frequency: 2000, accuracy: 0.6 },
        ],
      },
    ]);
    expect(svg).toContain("<svg");
    expect(svg).toContain("step1000");
    expect(svg).toContain("step2000");
  });

  it("draws memorization by step and the gender-bias report", () => {
    const memorization = memorizationByStepSvg([
      { step: 2000, count: 10, memorizedCount: 3, meanScore: 0.5 },
      { step: 1000, count: 5, memorizedCount: 1, meanScore: 0.4 },
    ]);
    expect(memorization).toContain("<svg");
    expect(memorization).toContain("memorized (score = 1)");
    const result = { winobias: { bias: 0.2, accuracy: 0.5 }, crowsPairs: { pctStereotype: 0.6 } };
    const bias = genderBiasReportSvg({
      before: result,
      after: { ...result, winobias: { bias: 0.1, accuracy: 0.5 } },
    });
    expect(bias).toContain("intervened");
    expect(bias).toContain("CrowS pct_stereotype");
  });
});
