import { describe, expect, it } from "vitest";
import { checkpointSteps } from "./index.js";

describe("checkpointSteps", () => {
  it("gives Pythia's 154 checkpoints", () => {
    const steps = checkpointSteps({ steps: 143000, every: 1000 });
    expect(steps).toHaveLength(154);
    expect(steps.slice(0, 12)).toEqual([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]);
    expect(steps.at(-1)).toBe(143000);
  });

  it("keeps the shape for short runs and always saves the last step", () => {
    expect(checkpointSteps({ steps: 300, every: 100 })).toEqual([0, 1, 2, 4, 8, 16, 32, 64, 100, 200, 300]);
    expect(checkpointSteps({ steps: 130, every: 50 })).toEqual([0, 1, 2, 4, 8, 16, 32, 50, 100, 130]);
    expect(checkpointSteps({ steps: 5, every: 1000, logSpacedUpTo: 512 })).toEqual([0, 1, 2, 4, 5]);
    expect(() => checkpointSteps({ steps: 10, every: 0 })).toThrow(RangeError);
  });
});
