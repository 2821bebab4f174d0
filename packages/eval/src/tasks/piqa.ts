/** `piqa` (harness `piqa.PiQA`, VERSION 0): the PIQA validation split (`valid.jsonl` + `valid-labels.lst`). */
import { expectData, hasDataFiles, parseJsonLines, readDataFile } from "../data-files.js";
import type { Task } from "../task.js";
import {
  MULTIPLE_CHOICE_AGGREGATIONS,
  multipleChoiceRequests,
  multipleChoiceResults,
  multipleChoiceTarget,
  type MultipleChoiceDoc,
} from "./multiple-choice.js";

export interface PiqaDoc extends MultipleChoiceDoc {
  goal: string;
}

function load(dataDir: string, file: string, labelsFile: string): PiqaDoc[] {
  const rows = parseJsonLines<{ goal?: unknown; sol1?: unknown; sol2?: unknown }>(
    readDataFile(dataDir, file, "piqa"),
    file,
    "piqa",
  );
  const labels = readDataFile(dataDir, labelsFile, "piqa")
    .split("\n")
    .filter((line) => line.trim() !== "");
  expectData(
    labels.length === rows.length,
    "piqa",
    labelsFile,
    `${labels.length} labels for ${rows.length} rows of ${file}`,
  );
  return rows.map((row, i) => {
    expectData(
      typeof row.goal === "string" && typeof row.sol1 === "string" && typeof row.sol2 === "string",
      "piqa",
      `${file}:${i + 1}`,
      "expected {goal, sol1, sol2} strings",
    );
    const label = Number((labels[i] as string).trim());
    expectData(
      label === 0 || label === 1,
      "piqa",
      `${labelsFile}:${i + 1}`,
      `label "${labels[i]}" is not 0 or 1`,
    );
    return { goal: row.goal, choices: [row.sol1, row.sol2], gold: label };
  });
}

export const piqa: Task<PiqaDoc> = {
  name: "piqa",
  version: 0,
  evalSplit: "validation",
  evalFiles: ["piqa/valid.jsonl", "piqa/valid-labels.lst"],
  hasTrainingDocs: true,
  trainFiles: ["piqa/train.jsonl", "piqa/train-labels.lst"],
  aggregations: MULTIPLE_CHOICE_AGGREGATIONS,
  loadDocs: (dataDir) => load(dataDir, "piqa/valid.jsonl", "piqa/valid-labels.lst"),
  loadTrainingDocs: (dataDir) =>
    hasDataFiles(dataDir, piqa.trainFiles)
      ? load(dataDir, "piqa/train.jsonl", "piqa/train-labels.lst")
      : null,
  docToText: (doc) => `Question: ${doc.goal}\nAnswer:`,
  docToTarget: multipleChoiceTarget,
  constructRequests: multipleChoiceRequests,
  processResults: multipleChoiceResults,
};
