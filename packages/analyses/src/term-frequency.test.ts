import { describe, expect, it } from "vitest";
import { countTermFrequencies, termFrequency } from "./term-frequency.js";

describe("term frequency", () => {
  it("counts overlapping windows of a hand-built text like hand counts", () => {
    // Windows (space prepended): " 12 times 3", " 3 plus 4", " 4 is 7 and 9"? no: lazy → " 4 is 7", then " 7 and 9".
    const counts = countTermFrequencies("12 times 3 plus 4 is 7 and 9 apples");
    expect(Object.fromEntries(counts)).toEqual({
      "12": 1,
      "3": 2,
      "4": 2,
      "7": 2,
      "9": 1,
      "3-12": 1,
      "3-4": 1,
      "4-7": 1,
      "7-9": 1,
    });
  });

  it("needs 1–3 tokens between numbers and at most 5 digits", () => {
    expect(countTermFrequencies("5 a b c d 6").size).toBe(0); // 4 tokens between
    expect(countTermFrequencies("5 a b c 6").get("5-6")).toBe(1);
    expect(countTermFrequencies("123456 x 7").size).toBe(0);
    expect(countTermFrequencies("7 x 123456").size).toBe(0);
  });

  it("accumulates counts chunk by chunk as of each checkpoint", async () => {
    const texts = ["1 x 2", "nothing here", "1 x 3", "2 y 2"];
    const result = await termFrequency({
      rows: (start, count) => Array.from({ length: count }, (_, i) => Int32Array.of(start + i)),
      decode: (ids) => texts[ids[0] as number] as string,
      checkpointSteps: [1, 2],
      batchSize: 2,
    });
    expect(result.checkpoints[0]).toEqual({ step: 1, rows: 2, counts: { "1": 1, "1-2": 1, "2": 1 } });
    expect(result.checkpoints[1]?.counts).toEqual({ "1": 2, "1-2": 1, "1-3": 1, "2": 3, "2-2": 1, "3": 1 });
  });
});
