import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cleanUpTokenizationSpaces, countRows, countTermFrequencies } from "./term-frequency-count.js";

const fixtures = new URL("../test/fixtures/term-frequency/", import.meta.url);
const texts = JSON.parse(readFileSync(new URL("texts.json", fixtures), "utf8")) as string[];
const expected = JSON.parse(readFileSync(new URL("counts.json", fixtures), "utf8")) as Array<
  Record<string, number>
>;

describe("term-frequency windows", () => {
  it("count like Pythia's Python regular expressions on every fixture text", () => {
    let keys = 0;
    for (const [i, text] of texts.entries()) {
      const counts = Object.fromEntries(countTermFrequencies(text));
      expect({ i, text, counts }).toEqual({ i, text, counts: expected[i] });
      keys += Object.keys(counts).length;
    }
    expect(keys).toBeGreaterThan(1000);
  });

  it("count hand-built windows as hand counts", () => {
    // " 12 times 3 plus 4": the {1,3} repetition is greedy, so the 12-window reaches 4.
    expect(Object.fromEntries(countTermFrequencies("12 times 3 plus 4"))).toEqual({
      "12": 1,
      "3": 2,
      "4": 2,
      "3-12": 1,
      "4-12": 1,
      "3-4": 2,
    });
    expect(countTermFrequencies("5 a b c d 6").size).toBe(0); // 4 tokens between
    expect(Object.fromEntries(countTermFrequencies("waited 5 long minutes"))).toEqual({ "5-minute": 1 });
    expect(Object.fromEntries(countTermFrequencies("5 minutes", new Map(), { timeUnits: false }))).toEqual(
      {},
    );
  });

  it("clean up spaces like transformers' decode", () => {
    expect(cleanUpTokenizationSpaces("3 , 4 . it 's n't ' x")).toBe("3, 4. it'sn't'x"); // what Python's chain of replaces gives;
    expect(cleanUpTokenizationSpaces("a ' b")).toBe("a'b");
  });

  it("decode each row of a flat batch", () => {
    const flat = Int32Array.of(1, 2, 3, 4);
    const seen: number[][] = [];
    countRows({
      flat,
      width: 2,
      decode: (ids) => {
        seen.push(Array.from(ids));
        return "1 x 2";
      },
      counts: new Map(),
    });
    expect(seen).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});
