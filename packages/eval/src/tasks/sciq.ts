/** `sciq` (harness `sciq.SciQ`, VERSION 0): SciQ test (`test.json`, a JSON array). */
import { EvalError } from "../eval-errors.js";
import { expectData, hasDataFiles, readDataFile } from "../data-files.js";
import type { Task } from "../task.js";
import {
  MULTIPLE_CHOICE_AGGREGATIONS,
  multipleChoiceRequests,
  multipleChoiceResults,
  multipleChoiceTarget,
  type MultipleChoiceDoc,
} from "./multiple-choice.js";

export interface SciqDoc extends MultipleChoiceDoc {
  source: string;
  query: string;
}

function load(dataDir: string, file: string): SciqDoc[] {
  let rows: unknown;
  try {
    rows = JSON.parse(readDataFile(dataDir, file, "sciq"));
  } catch (error) {
    if (EvalError.isInstance(error)) {
      throw error;
    }
    throw new EvalError("DATA_FORMAT", `sciq: ${file}: not valid JSON (${(error as Error).message})`);
  }
  expectData(Array.isArray(rows), "sciq", file, "expected a JSON array of questions");
  return rows.map((row: Record<string, unknown>, i) => {
    const fields = ["question", "distractor1", "distractor2", "distractor3", "correct_answer", "support"];
    expectData(
      fields.every((field) => typeof row[field] === "string"),
      "sciq",
      `${file}[${i}]`,
      `expected string fields ${fields.join(", ")}`,
    );
    const text = (field: string) => row[field] as string;
    return {
      source: text("support"),
      query: text("question"),
      choices: [text("distractor1"), text("distractor2"), text("distractor3"), text("correct_answer")],
      gold: 3,
    };
  });
}

export const sciq: Task<SciqDoc> = {
  name: "sciq",
  version: 0,
  evalSplit: "test",
  evalFiles: ["sciq/test.json"],
  hasTrainingDocs: true,
  trainFiles: ["sciq/train.json"],
  aggregations: MULTIPLE_CHOICE_AGGREGATIONS,
  loadDocs: (dataDir) => load(dataDir, "sciq/test.json"),
  loadTrainingDocs: (dataDir) =>
    hasDataFiles(dataDir, sciq.trainFiles) ? load(dataDir, "sciq/train.json") : null,
  // Python's str.strip(): the leading newline goes when support is empty.
  docToText: (doc) => `${doc.source}\nQuestion: ${doc.query}\nAnswer:`.trim(),
  docToTarget: multipleChoiceTarget,
  constructRequests: multipleChoiceRequests,
  processResults: multipleChoiceResults,
};
