import { describe, expect, it } from "vitest";
import {
  arithmeticDoc,
  arithmeticEval,
  extractFirstNumber,
  fewShotPrompt,
  performanceGap,
} from "./arithmetic.js";

describe("arithmetic tasks", () => {
  it("builds Pythia's prompts and targets", () => {
    expect(arithmeticDoc("multiplication", 12, 3)).toEqual({
      x1: 12,
      x2: 3,
      prompt: "Q:What is 12 times 3? A:",
      target: "36",
    });
    expect(arithmeticDoc("addition", 12, 3).prompt).toBe("Q:What is 12 plus 3? A:");
    const prompt = fewShotPrompt({ operation: "addition", doc: arithmeticDoc("addition", 5, 5), shots: 2 });
    const parts = prompt.split("\n\n");
    expect(parts).toHaveLength(3);
    expect(parts[2]).toBe("Q:What is 5 plus 5? A:");
    expect(parts[0]).toMatch(/^Q:What is (\d+) plus (\d+)\? A:\d+$/);
    expect(parts[0]).not.toMatch(/^Q:What is 5 plus/);
  });

  it("extracts the first number", () => {
    expect(extractFirstNumber(" 36 apples")).toBe("36");
    expect(extractFirstNumber("none")).toBe("");
    expect(extractFirstNumber("1234567")).toBe("12345");
  });

  it("scores per operand and computes Δ", async () => {
    // Right only when x1 is even.
    const result = await arithmeticEval({
      operation: "addition",
      shots: 0,
      x1Values: [0, 1, 2, 3],
      x2Values: [1, 2],
      greedyUntil: async (prompt) => {
        const [, a, b] = /(\d+) plus (\d+)\? A:$/.exec(prompt) as RegExpExecArray;
        return Number(a) % 2 === 0 ? ` ${Number(a) + Number(b)}` : " 0";
      },
    });
    expect(result.accuracy).toEqual({ "0": 1, "1": 0, "2": 1, "3": 0 });
    const accuracy = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [String(i), i < 2 ? 1 : i >= 18 ? 0.25 : 0.5]),
    );
    const frequency = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [String(i), 1000 - i]));
    expect(performanceGap({ accuracy, frequency })).toEqual({
      delta: 75,
      top: ["0", "1"],
      bottom: ["18", "19"],
    });
  });
});
