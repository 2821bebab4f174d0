/** `arc_easy` (harness `arc.ARCEasy`, VERSION 0): ARC-Easy test, AI2 schema. */
import { hasDataFiles } from "../data-files.js";
import type { Task } from "../task.js";
import { loadArcDocs, type ArcDoc } from "./arc-common.js";
import {
  MULTIPLE_CHOICE_AGGREGATIONS,
  multipleChoiceRequests,
  multipleChoiceResults,
  multipleChoiceTarget,
} from "./multiple-choice.js";

export const arcEasy: Task<ArcDoc> = {
  name: "arc_easy",
  version: 0,
  evalSplit: "test",
  evalFiles: ["arc_easy/test.jsonl"],
  hasTrainingDocs: true,
  trainFiles: ["arc_easy/train.jsonl"],
  aggregations: MULTIPLE_CHOICE_AGGREGATIONS,
  loadDocs: (dataDir) => loadArcDocs(dataDir, "arc_easy/test.jsonl", "arc_easy"),
  loadTrainingDocs: (dataDir) =>
    hasDataFiles(dataDir, arcEasy.trainFiles)
      ? loadArcDocs(dataDir, "arc_easy/train.jsonl", "arc_easy")
      : null,
  docToText: (doc) => doc.query,
  docToTarget: multipleChoiceTarget,
  constructRequests: multipleChoiceRequests,
  processResults: multipleChoiceResults,
};
