/**
 * The Pythia gender-bias intervention: masculine → feminine pronoun swap in the training stream at
 * batch time (data order unchanged), as a `@pythia/trainer` batch hook. The token-id map is the one of
 * gpt-neox's `intervention` branch (Pile tokenizer ids); see the README's decision note for why it,
 * and not the later string-level `new-intervention` branch, is the definition used here.
 */
import type { BatchIntervention } from "@pythia/trainer";
import { AnalysisError } from "./analysis-errors.js";

/** Masculine → feminine token ids (` He`→` She`, …); "himself" is not covered, as in the original. */
export const PRONOUN_SWAP_MAP: ReadonlyMap<number, number> = new Map([
  [754, 1500], // " He" → " She"
  [3032, 4058], // " His" → " Her"
  [8389, 10759], // "His" → "Her"
  [1328, 2993], // "He" → "She"
  [521, 617], // " his" → " her"
  [344, 703], // " he" → " she"
  [779, 617], // " him" → " her"
  [8701, 379], // "his" → "her"
  [13243, 379], // "him" → "her"
  [248, 6689], // "he" → "she"
]);

/** Returns a copy of `ids` with every id in `map` replaced. */
export function swapPronouns(
  ids: Int32Array,
  map: ReadonlyMap<number, number> = PRONOUN_SWAP_MAP,
): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    out[i] = map.get(id) ?? id;
  }
  return out;
}

/** The steps of the last `percent`% of a run: resume after `resumeStep`, intervene on steps `(resumeStep, steps]`. */
export function interventionWindow(params: { steps: number; percent: number }): {
  resumeStep: number;
  fromStep: number;
  toStep: number;
} {
  if (!(params.percent > 0 && params.percent <= 100)) {
    throw new AnalysisError(
      "INPUT",
      `interventionWindow: percent must be in (0, 100], got ${params.percent}`,
    );
  }
  const resumeStep = params.steps - Math.round((params.steps * params.percent) / 100);
  return { resumeStep, fromStep: resumeStep + 1, toStep: params.steps + 1 };
}

/**
 * The pronoun swap as a trainer hook on 1-based steps `[fromStep, toStep)`. Swapping before the
 * label shift changes inputs and labels alike, as the original did.
 */
export function pronounSwapIntervention(params: {
  fromStep: number;
  toStep: number;
  map?: ReadonlyMap<number, number>;
}): BatchIntervention {
  const map = params.map ?? PRONOUN_SWAP_MAP;
  return {
    name: "pronoun-swap",
    fromStep: params.fromStep,
    toStep: params.toStep,
    transform: (batch) => swapPronouns(batch, map),
  };
}
