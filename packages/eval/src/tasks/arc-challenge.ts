/** `arc_challenge` (harness `arc.ARCChallenge`, VERSION 0): ARC-Challenge test. */
import { hasDataFiles } from "../data-files.js";
import type { Task } from "../task.js";
import { loadArcDocs, type ArcDoc } from "./arc-common.js";
import {
  MULTIPLE_CHOICE_AGGREGATIONS,
  multipleChoiceRequests,
  multipleChoiceResults,
  multipleChoiceTarget,
} from "./multiple-choice.js";

export const arcChallenge: Task<ArcDoc> = {
  name: "arc_challenge",
  version: 0,
  evalSplit: "test",
  evalFiles: ["arc_challenge/arc_challenge_test.jsonl"],
  hasTrainingDocs: true,
  trainFiles: ["arc_challenge/train.jsonl"],
  aggregations: MULTIPLE_CHOICE_AGGREGATIONS,
  loadDocs: (dataDir) => loadArcDocs(dataDir, "arc_challenge/arc_challenge_test.jsonl", "arc_challenge"),
  loadTrainingDocs: (dataDir) =>
    hasDataFiles(dataDir, arcChallenge.trainFiles)
      ? loadArcDocs(dataDir, "arc_challenge/train.jsonl", "arc_challenge")
      : null,
  docToText: (doc) => doc.query,
  docToTarget: multipleChoiceTarget,
  constructRequests: multipleChoiceRequests,
  processResults: multipleChoiceResults,
};
