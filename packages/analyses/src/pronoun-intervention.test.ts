import { loadPileTokenizer } from "@pythia/tokenizer";
import { describe, expect, it } from "vitest";
import {
  interventionWindow,
  PRONOUN_SWAP_MAP,
  pronounSwapIntervention,
  swapPronouns,
} from "./pronoun-intervention.js";

describe("pronoun-swap intervention", () => {
  it("changes exactly the listed ids", () => {
    const ids = Int32Array.from({ length: 50304 }, (_, i) => i);
    const swapped = swapPronouns(ids);
    const changed = [...ids].filter((id) => swapped[id] !== id);
    expect(changed.sort((a, b) => a - b)).toEqual([...PRONOUN_SWAP_MAP.keys()].sort((a, b) => a - b));
    for (const [from, to] of PRONOUN_SWAP_MAP) {
      expect(swapped[from]).toBe(to);
    }
  });

  it("the ids decode to the documented pronouns with the Pile tokenizer", async () => {
    const tokenizer = await loadPileTokenizer();
    const pairs = [...PRONOUN_SWAP_MAP].map(([a, b]) => `${tokenizer.decode([a])}→${tokenizer.decode([b])}`);
    expect(pairs).toEqual([
      " He→ She",
      " His→ Her",
      "His→Her",
      "He→She",
      " his→ her",
      " he→ she",
      " him→ her",
      "his→her",
      "him→her",
      "he→she",
    ]);
  });

  it("covers the last N% of steps as a trainer hook", () => {
    expect(interventionWindow({ steps: 1000, percent: 7 })).toEqual({
      resumeStep: 930,
      fromStep: 931,
      toStep: 1001,
    });
    const hook = pronounSwapIntervention({ fromStep: 9, toStep: 13 });
    expect([...hook.transform(Int32Array.of(344, 5, 779), { step: 9, seqLength: 2 })]).toEqual([703, 5, 617]);
  });
});
