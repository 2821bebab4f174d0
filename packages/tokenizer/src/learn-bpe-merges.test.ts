import { describe, expect, it } from "vitest";
import { learnBpeMerges, type BpeModel, type LearnBpeMergesParams } from "./learn-bpe-merges.js";

function learn(params: Partial<LearnBpeMergesParams> & Pick<LearnBpeMergesParams, "wordCounts">): BpeModel {
  const steps = learnBpeMerges({
    vocabSize: 30000,
    minFrequency: 0,
    specialTokens: [],
    initialAlphabet: [],
    ...params,
  });
  for (;;) {
    const step = steps.next();
    if (step.done === true) {
      return step.value;
    }
  }
}

describe("learnBpeMerges", () => {
  it("reproduces HF tokenizers' trainer.rs test_train (min frequency 2)", () => {
    const wordCounts = new Map(
      Object.entries({
        roses: 1,
        are: 2,
        red: 1,
        voilets: 1,
        blue: 1,
        BERT: 1,
        is: 2,
        big: 1,
        and: 1,
        so: 1,
        "GPT-2": 1,
      }),
    );
    const model = learn({ wordCounts, minFrequency: 2 });
    // The alphabet sorted by code point, then "re" (3 times), then the tie at 2: (a, re) before (i, s)
    // because a's id (8) is smaller than i's (13).
    expect([...model.vocab.keys()]).toEqual([..."-2BEGPRTabdegilnorstuv", "re", "are", "is"]);
    expect([...model.vocab.values()]).toEqual([...Array(25).keys()]);
    expect(model.merges).toEqual([
      ["r", "e"],
      ["a", "re"],
      ["i", "s"],
    ]);
  });

  it("maps words to byte-level symbols (space -> Ġ, newline -> Ċ, é -> Ã©)", () => {
    const model = learn({ wordCounts: new Map([[" é\n", 3]]) });
    // Bytes 20 C3 A9 0A; every pair occurs 3 times, so the smallest ids merge first: (©, Ċ) = (0, 2).
    expect([...model.vocab.keys()]).toEqual(["©", "Ã", "Ċ", "Ġ", "©Ċ", "Ã©Ċ", "ĠÃ©Ċ"]);
  });

  it("breaks count ties by the smaller (left id, right id); a higher count wins first", () => {
    // a = 0, b = 1, c = 2: (a, b) < (b, a) < (b, c).
    const tie = learn({
      wordCounts: new Map([
        ["bcba", 1],
        ["ab", 1],
      ]),
    });
    expect(tie.merges[0]).toEqual(["a", "b"]);
    expect(tie.merges[1]).toEqual(["b", "a"]);
    const counted = learn({
      wordCounts: new Map([
        ["bcbc", 1],
        ["ab", 1],
      ]),
    });
    expect(counted.merges[0]).toEqual(["b", "c"]);
  });

  it("special tokens come first; a special token equal to a character keeps its id", () => {
    const model = learn({ wordCounts: new Map([["ab", 2]]), specialTokens: ["<s>", "b"] });
    expect([...model.vocab]).toEqual([
      ["<s>", 0],
      ["b", 1],
      ["a", 2],
      ["ab", 3],
    ]);
  });

  it("yields progress and stops at the vocabulary size", () => {
    const steps = learnBpeMerges({
      wordCounts: new Map([["abcdefgh", 1]]),
      vocabSize: 10,
      minFrequency: 0,
      specialTokens: [],
      initialAlphabet: [],
    });
    const events = [];
    let step = steps.next();
    while (step.done !== true) {
      events.push(step.value);
      step = steps.next();
    }
    expect(step.value.vocab.size).toBe(10);
    expect(events.at(-1)).toEqual({ type: "merge-progress", merges: 2, vocabSize: 10, targetVocabSize: 10 });
  });
});
