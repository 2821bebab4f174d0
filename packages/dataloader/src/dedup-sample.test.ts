import { describe, expect, it } from "vitest";
import { chooseSample, clusterStats } from "./dedup-sample.js";

describe("dedup report summaries", () => {
  it("clusters are connected components of the dropped-because-of links", () => {
    // 0 -> 2, 1 -> 2 (a cluster of 3); 3 -> 4 (2); 5 -> 6 -> 7 (a chain of 3); 8 alone.
    const duplicateOf = Int32Array.from([2, 2, -1, 4, -1, 6, 7, -1, -1]);
    expect(clusterStats(duplicateOf)).toEqual({ count: 3, documents: 8, largest: 3, sizes: { 2: 1, 3: 2 } });
    expect(clusterStats(Int32Array.from([-1, -1]))).toEqual({
      count: 0,
      documents: 0,
      largest: 0,
      sizes: {},
    });
  });

  it("the sample is a deterministic subset of the dropped documents, in document order", () => {
    const duplicateOf = Int32Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? -1 : i - (i % 3)));
    const sample = chooseSample(duplicateOf, 50, 1);
    expect(sample).toHaveLength(50);
    expect(sample).toEqual(chooseSample(duplicateOf, 50, 1));
    expect(sample).not.toEqual(chooseSample(duplicateOf, 50, 2));
    for (const [dropped, other] of sample) {
      expect(duplicateOf[dropped]).toBe(other);
    }
    expect(sample.map(([dropped]) => dropped)).toEqual(
      [...sample.map(([dropped]) => dropped)].sort((a, b) => a - b),
    );
    // Spread over the whole range, not the first 50 dropped documents.
    expect(Math.max(...sample.map(([dropped]) => dropped))).toBeGreaterThan(500);
    expect(chooseSample(duplicateOf, 0, 1)).toEqual([]);
    expect(chooseSample(duplicateOf, 5000, 1)).toHaveLength(666);
  });
});
