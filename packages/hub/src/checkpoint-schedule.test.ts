import { describe, expect, it } from "vitest";
import { revisionName, revisionStep, scheduleSteps } from "./checkpoint-schedule.js";

describe("scheduleSteps", () => {
  it("gives Pythia's 154 revisions", () => {
    const steps = scheduleSteps({ steps: 143000, every: 1000 });
    expect(steps).toHaveLength(154);
    expect(steps.slice(0, 12)).toEqual([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]);
    expect(steps.at(-1)).toBe(143000);
  });

  it("keeps the shape on short runs", () => {
    expect(scheduleSteps({ steps: 2, every: 2 })).toEqual([0, 1, 2]);
    expect(scheduleSteps({ steps: 130, every: 50 })).toEqual([0, 1, 2, 4, 8, 16, 32, 50, 100, 130]);
  });

  it("names revisions step{N}", () => {
    expect(revisionName(143000)).toBe("step143000");
    expect(revisionStep("step512")).toBe(512);
    expect(revisionStep("main")).toBeNull();
    expect(revisionStep("step1a")).toBeNull();
  });
});
