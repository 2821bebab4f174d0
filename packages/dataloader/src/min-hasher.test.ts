import { describe, expect, it } from "vitest";
import { EMPTY_SIGNATURE_VALUE, estimatedJaccard, MinHasher } from "./min-hasher.js";
import { RandomState } from "./numpy-random-state.js";
import { exactJaccard, wordShingles, wordTokens } from "./word-shingles.js";

/** A document of `length` words drawn from a vocabulary of `vocabulary` made-up words. */
function randomWords(random: RandomState, length: number, vocabulary = 3000): string[] {
  return Array.from({ length }, () => `w${random.randomInterval(vocabulary - 1)}`);
}

describe("word tokens and shingles", () => {
  it("splits words, digits and single punctuation marks, Unicode included", () => {
    expect(wordTokens("Hello, world! It's 2024 — naïve café_bar日本語\u00a0x")).toEqual([
      "Hello",
      ",",
      "world",
      "!",
      "It",
      "'",
      "s",
      "2024",
      "—",
      "naïve",
      "café_bar日本語",
      "x",
    ]);
    expect(wordTokens(" \n\t ")).toEqual([]);
  });

  it("5-gram shingles, one shingle for short documents, none for empty ones", () => {
    expect([...wordShingles("a b c d e f", 5)]).toEqual(["a b c d e", "b c d e f"]);
    expect([...wordShingles("a b. c", 5)]).toEqual(["a b . c"]);
    expect(wordShingles("  ", 5).size).toBe(0);
    expect([...wordShingles("a b a b a b", 2)].sort()).toEqual(["a b", "b a"]);
  });

  it("exact Jaccard", () => {
    expect(exactJaccard(new Set(["a", "b", "c"]), new Set(["b", "c", "d"]))).toBe(0.5);
    expect(exactJaccard(new Set(), new Set())).toBe(1);
    expect(exactJaccard(new Set(["a"]), new Set())).toBe(0);
  });
});

describe("MinHasher", () => {
  const text = "the quick brown fox jumps over the lazy dog and keeps running through the field";

  it("is deterministic for a seed and changes with it", () => {
    const a = new MinHasher({ seed: 7 }).signature(text);
    const b = new MinHasher({ seed: 7 }).signature(text);
    const c = new MinHasher({ seed: 8 }).signature(text);
    expect(a).toEqual(b);
    expect(estimatedJaccard(a, c)).toBeLessThan(0.1);
    expect(a).toHaveLength(128);
  });

  it("hashes exactly the distinct shingles wordShingles finds", () => {
    const random = new RandomState(3);
    const hasher = new MinHasher({ numPerm: 16 });
    for (let trial = 0; trial < 20; trial++) {
      const words = randomWords(random, 50 + trial * 37, 20); // small vocabulary: repeated shingles
      const document = words.join(trial % 2 === 0 ? " " : ", ");
      expect(hasher.distinctShingleHashes(document).length).toBe(wordShingles(document, 5).size);
    }
  });

  it("hashes the same tokens as wordTokens, Unicode and punctuation included", () => {
    const text = "Hello, world! It's 2024 — naïve café_bar日本語\u00a0x 😀 «quoted» Hello , world";
    const hasher = new MinHasher({ numPerm: 4, shingleSize: 1 });
    expect(hasher.distinctShingleHashes(text).length).toBe(new Set(wordTokens(text)).size);
    const pairs = new MinHasher({ numPerm: 4, shingleSize: 2 });
    expect(pairs.distinctShingleHashes(text).length).toBe(wordShingles(text, 2).size);
  });

  it("gives documents without tokens the empty signature", () => {
    expect(new MinHasher({ numPerm: 4 }).signature(" \n ")).toEqual(
      new Uint32Array(4).fill(EMPTY_SIGNATURE_VALUE),
    );
  });

  it("estimates Jaccard without bias and with the binomial variance J(1-J)/numPerm", () => {
    const random = new RandomState(11);
    const hasher = new MinHasher({ numPerm: 128, seed: 1 });
    const errors: number[] = [];
    const variances: number[] = [];
    for (let pair = 0; pair < 300; pair++) {
      const words = randomWords(random, 200);
      const edited = words.slice();
      const edits = pair % 25;
      for (let e = 0; e < edits; e++) {
        edited[random.randomInterval(edited.length - 1)] = `x${random.randomInterval(100000)}`;
      }
      const a = words.join(" ");
      const b = edited.join(" ");
      const exact = exactJaccard(wordShingles(a, 5), wordShingles(b, 5));
      errors.push(estimatedJaccard(hasher.signature(a), hasher.signature(b)) - exact);
      variances.push((exact * (1 - exact)) / 128);
    }
    const n = errors.length;
    const meanError = errors.reduce((s, e) => s + e, 0) / n;
    const expectedVariance = variances.reduce((s, v) => s + v, 0) / n;
    const observedVariance = errors.reduce((s, e) => s + e * e, 0) / n;
    // Mean error within 4 standard errors of 0; variance within 35% of the binomial one.
    expect(Math.abs(meanError), `mean error ${meanError}`).toBeLessThan(4 * Math.sqrt(expectedVariance / n));
    expect(observedVariance / expectedVariance, `variance ratio`).toBeGreaterThan(0.65);
    expect(observedVariance / expectedVariance, `variance ratio`).toBeLessThan(1.35);
  });

  it("rejects bad parameters", () => {
    expect(() => new MinHasher({ numPerm: 0 })).toThrow(/numPerm must be a positive integer/);
    expect(() => new MinHasher({ shingleSize: 0 })).toThrow(/shingleSize/);
    expect(() => new MinHasher({ seed: -1 })).toThrow(/seed/);
  });
});
