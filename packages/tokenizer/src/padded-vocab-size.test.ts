import { describe, expect, it } from "vitest";
import { paddedVocabSize, PYTHIA_PADDED_VOCAB_SIZE } from "./index.js";

describe("paddedVocabSize", () => {
  it("reproduces the Pythia table (50304 / 50432 / 50688)", () => {
    expect(paddedVocabSize()).toBe(50304);
    expect(paddedVocabSize({ modelParallelSize: 2 })).toBe(50432);
    expect(paddedVocabSize({ modelParallelSize: 4 })).toBe(50688);
    expect(PYTHIA_PADDED_VOCAB_SIZE["pythia-6.9b"]).toBe(paddedVocabSize({ modelParallelSize: 2 }));
    expect(PYTHIA_PADDED_VOCAB_SIZE["pythia-12b"]).toBe(paddedVocabSize({ modelParallelSize: 4 }));
  });
  it("rounds GPT-2's vocabulary like nanoGPT (multiple of 64)", () => {
    expect(paddedVocabSize({ vocabSize: 50257, divisibleBy: 64 })).toBe(50304);
    expect(paddedVocabSize({ vocabSize: 128, divisibleBy: 128 })).toBe(128);
  });
  it("rejects nonsense", () => {
    expect(() => paddedVocabSize({ vocabSize: 0 })).toThrow(/vocabSize must be a positive integer/);
    expect(() => paddedVocabSize({ divisibleBy: 1.5 })).toThrow(/multiple/);
  });
});
