import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  arithmeticDoc,
  arithmeticEval,
  arithmeticRequests,
  extractFirstNumber,
  performanceGap,
} from "./arithmetic.js";

/** Draws made by CPython's `random` as the harness's evaluator makes them (test/fixtures/arithmetic). */
const fewshot = JSON.parse(
  readFileSync(new URL("../test/fixtures/arithmetic/fewshot.json", import.meta.url), "utf8"),
) as Array<{ x1: number; shots: number; order: number[]; examples: Array<Array<[number, number]>> }>;

describe("arithmetic tasks", () => {
  it("builds Pythia's prompts and targets", () => {
    expect(arithmeticDoc("multiplication", 12, 3)).toEqual({
      x1: 12,
      x2: 3,
      prompt: "Q:What is 12 times 3? A:",
      target: "36",
    });
    expect(arithmeticDoc("addition", 12, 3).prompt).toBe("Q:What is 12 plus 3? A:");
  });

  it("orders docs and draws k-shot examples exactly as lm-evaluation-harness v0.3.0 (CPython random)", () => {
    for (const expected of fewshot) {
      for (const operation of ["multiplication", "addition"] as const) {
        const requests = arithmeticRequests({ operation, x1: expected.x1, shots: expected.shots });
        expect(requests.map((r) => r.doc.x2)).toEqual(expected.order);
        for (const [i, request] of requests.entries()) {
          const lines = (expected.examples[i] as Array<[number, number]>).map(([a, b]) => {
            const doc = arithmeticDoc(operation, a, b);
            return doc.prompt + doc.target;
          });
          expect(request.context).toBe([...lines, request.doc.prompt].join("\n\n"));
        }
      }
    }
    const zeroShot = arithmeticRequests({ operation: "addition", x1: 0, shots: 0, limit: 3 });
    expect(zeroShot.map((r) => r.context)).toEqual(
      (fewshot[0]?.order ?? []).slice(0, 3).map((x2) => `Q:What is 0 plus ${x2}? A:`),
    );
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
