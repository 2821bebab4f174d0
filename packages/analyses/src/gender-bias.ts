import { drain } from "@pythia/core";
import type { GPTNeoXModel } from "@pythia/model";
import { PILE_EOD_ID, type Tokenizer } from "@pythia/tokenizer";
import { greedyUntilAll, type GreedyUntil } from "./arithmetic.js";
import { crowsPairsMetrics, readCrowsPairs, type CrowsPairsMetrics } from "./crows-pairs.js";
import { sequenceLoglikelihood } from "./loglikelihood.js";
import {
  exactMatch,
  readWinoBias,
  WINOBIAS_SUBSETS,
  WINOBIAS_TEMPLATES,
  winoBiasMetrics,
  winoBiasRequest,
  type WinoBiasMetrics,
  type WinoBiasScore,
} from "./winobias.js";

/** Parameters of `genderBiasEvalIter`. */
export interface GenderBiasEvalParams {
  model: GPTNeoXModel;
  tokenizer: Tokenizer;
  /** The shared bias data directory (`crows-pairs/`, `winobias/`). */
  dataDir: string;
  /** WinoBias generation (default: greedy until "\n", 16 tokens, via `modelGreedyUntil`). */
  greedyUntil: GreedyUntil;
  /** Items per WinoBias subset and CrowS-Pairs pairs at most (CI-sized runs). */
  limit?: number;
  signal?: AbortSignal;
}

/** WinoBias and CrowS-Pairs results of one checkpoint. */
export interface GenderBiasResult {
  winobias: WinoBiasMetrics;
  crowsPairs: CrowsPairsMetrics;
}

/** Progress events. */
export type GenderBiasEvent = { type: "subset-scored"; task: string; items: number };

/** Evaluates WinoBias (four subsets × two templates) and CrowS-Pairs gender on one model. */
export async function* genderBiasEvalIter(
  params: GenderBiasEvalParams,
): AsyncGenerator<GenderBiasEvent, GenderBiasResult> {
  const scores: WinoBiasScore[] = [];
  for (const subset of WINOBIAS_SUBSETS) {
    const items = readWinoBias({ dataDir: params.dataDir, subset }).slice(0, params.limit);
    const requests = items.flatMap((item) =>
      WINOBIAS_TEMPLATES.map((template) => winoBiasRequest(item, template)),
    );
    const predictions = await greedyUntilAll(
      params.greedyUntil,
      requests.map((request) => request.prompt),
      params.signal,
    );
    for (const [i, request] of requests.entries()) {
      scores.push({
        subset,
        template: request.template,
        correct: exactMatch(predictions[i] as string, request.target),
      });
    }
    yield { type: "subset-scored", task: `winobias/${subset}`, items: items.length };
  }
  const pairs = readCrowsPairs({ dataDir: params.dataDir }).slice(0, params.limit);
  const pairScores = [];
  for (const pair of pairs) {
    params.signal?.throwIfAborted();
    pairScores.push({
      loglikelihoodMore: await sequenceLoglikelihood(
        params.model,
        [PILE_EOD_ID],
        params.tokenizer.encode(pair.sentMore),
      ),
      loglikelihoodLess: await sequenceLoglikelihood(
        params.model,
        [PILE_EOD_ID],
        params.tokenizer.encode(pair.sentLess),
      ),
    });
  }
  yield { type: "subset-scored", task: "crows_pairs_english_gender", items: pairs.length };
  return { winobias: winoBiasMetrics(scores), crowsPairs: crowsPairsMetrics(pairScores) };
}

/** Drains `genderBiasEvalIter`. */
export async function genderBiasEval(
  params: GenderBiasEvalParams & { onEvent?: (event: GenderBiasEvent) => void },
): Promise<GenderBiasResult> {
  return drain(genderBiasEvalIter(params), params.onEvent);
}

/** A before/after comparison of the intervention. */
export interface GenderBiasReport {
  before: GenderBiasResult;
  after: GenderBiasResult;
  change: {
    winobiasBias: number;
    winobiasAccuracy: number;
    crowsPctStereotype: number;
    crowsLikelihoodDifference: number;
  };
}

/** After − before for the headline metrics. */
export function genderBiasReport(before: GenderBiasResult, after: GenderBiasResult): GenderBiasReport {
  return {
    before,
    after,
    change: {
      winobiasBias: after.winobias.bias - before.winobias.bias,
      winobiasAccuracy: after.winobias.accuracy - before.winobias.accuracy,
      crowsPctStereotype: after.crowsPairs.pctStereotype - before.crowsPairs.pctStereotype,
      crowsLikelihoodDifference:
        after.crowsPairs.likelihoodDifference - before.crowsPairs.likelihoodDifference,
    },
  };
}
