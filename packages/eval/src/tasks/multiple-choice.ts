/**
 * The harness's `MultipleChoiceTask` (v0.3.0): one request `(ctx, " " + choice)` per choice; `acc` is
 * argmax of the log-likelihoods, `acc_norm` argmax of ll / len(choice) (code points, no delimiter).
 */
import { pythonLength } from "../data-files.js";
import { argmax } from "../metrics.js";
import type { Aggregation, LoglikelihoodRequest, LoglikelihoodResult } from "../task.js";

/** A multiple-choice document as the harness's `_process_doc` leaves it. */
export interface MultipleChoiceDoc {
  choices: string[];
  gold: number;
}

export const MULTIPLE_CHOICE_AGGREGATIONS: Readonly<Record<string, Aggregation>> = {
  acc: "mean",
  acc_norm: "mean",
};

export function multipleChoiceTarget(doc: MultipleChoiceDoc): string {
  return ` ${doc.choices[doc.gold] ?? ""}`;
}

export function multipleChoiceRequests(doc: MultipleChoiceDoc, context: string): LoglikelihoodRequest[] {
  return doc.choices.map((choice) => ({ context, continuation: ` ${choice}` }));
}

export function multipleChoiceResults(
  doc: MultipleChoiceDoc,
  results: readonly LoglikelihoodResult[],
): Record<string, number> {
  const lls = results.map((result) => result.ll);
  const normalized = lls.map((ll, i) => ll / pythonLength(doc.choices[i] ?? ""));
  return {
    acc: argmax(lls) === doc.gold ? 1 : 0,
    acc_norm: argmax(normalized) === doc.gold ? 1 : 0,
  };
}
