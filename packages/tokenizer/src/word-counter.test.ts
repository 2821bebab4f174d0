import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GPT2_SPLIT_PATTERN } from "./byte-level.js";
import { createWordCounter } from "./word-counter.js";

function counted(texts: string[]): Map<string, number> {
  const counter = createWordCounter(GPT2_SPLIT_PATTERN.source, GPT2_SPLIT_PATTERN.flags);
  texts.forEach((text) => counter.addSequence(text));
  return counter.counts();
}

function countedWithPattern(texts: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of text.match(GPT2_SPLIT_PATTERN) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}

// Pieces that exercise every alternative of the pattern: contractions (and near misses), letters,
// digits, punctuation, ASCII white space and controls that are not white space, and non-ASCII
// characters (which send the sequence to the regular expression).
const PIECES = [
  "a",
  "Z",
  "s",
  "t",
  "re",
  "ve",
  "ll",
  "m",
  "d",
  "S",
  "0",
  "42",
  " ",
  "  ",
  "\t",
  "\n",
  "\r\n",
  "\v",
  "\f",
  "'",
  "''",
  "!",
  ".",
  "-",
  "\u0000",
  "\u001f",
  "\u007f",
  "é",
  "\u00a0",
  "\u0085",
  "€",
  "😀",
];

describe("createWordCounter", () => {
  it("the ASCII scanner splits exactly as the GPT-2 pattern (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((p) => p.join("")),
          { maxLength: 5 },
        ),
        (texts) => {
          expect(counted(texts)).toEqual(countedWithPattern(texts));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("splits contractions, prefix spaces and white space runs like GPT-2", () => {
    const counts = counted(["I'll say it's 42 times  now!!\n"]);
    expect([...counts.keys()].sort()).toEqual(
      ["I", "'ll", " say", " it", "'s", " 42", " times", " ", " now", "!!", "\n"].sort(),
    );
    expect(counted(["it's it's"]).get("'s")).toBe(2);
  });

  it("addLines: one sequence per line, each keeping its newline; rejects invalid UTF-8", () => {
    const counter = createWordCounter(GPT2_SPLIT_PATTERN.source, GPT2_SPLIT_PATTERN.flags);
    counter.addLines(new TextEncoder().encode("\ufeffa \n\n b"));
    // The byte order mark is kept (a character of its own: not a letter).
    expect(Object.fromEntries(counter.counts())).toEqual({ "\ufeff": 1, a: 1, " \n": 1, "\n": 1, " b": 1 });
    expect(() => counter.addLines(Uint8Array.of(0x61, 0xff))).toThrow(TypeError);
  });
});
