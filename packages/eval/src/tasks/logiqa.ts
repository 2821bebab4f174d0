/**
 * `logiqa` (harness `logiqa.LogiQA`, VERSION 0): LogiQA English `Test.txt`. The harness's dataset
 * script splits on blank lines and rewrites every field with `t.replace(".", ". ").strip()`, so "3.5"
 * becomes "3. 5"; options lose their 2-character "A." prefix first.
 */
import { expectData, hasDataFiles, readDataFile } from "../data-files.js";
import type { Task } from "../task.js";
import {
  MULTIPLE_CHOICE_AGGREGATIONS,
  multipleChoiceRequests,
  multipleChoiceResults,
  multipleChoiceTarget,
  type MultipleChoiceDoc,
} from "./multiple-choice.js";

export interface LogiqaDoc extends MultipleChoiceDoc {
  passage: string;
  query: string;
}

/** Python's `str.strip()` whitespace. */
function pythonStrip(text: string): string {
  // eslint-disable-next-line no-control-regex -- Python's str.isspace() includes U+001C–U+001F
  return text.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, "");
}

const normalize = (text: string) => pythonStrip(text.replaceAll(".", ". "));

function load(dataDir: string, file: string): LogiqaDoc[] {
  const blocks = pythonStrip(readDataFile(dataDir, file, "logiqa")).split("\n\n");
  const letters = ["a", "b", "c", "d"];
  return blocks.map((block, i) => {
    const lines = block.split("\n");
    expectData(
      lines.length >= 7,
      "logiqa",
      `${file} block ${i + 1}`,
      `expected 7 lines, got ${lines.length}`,
    );
    const label = pythonStrip(lines[0] as string);
    const gold = letters.indexOf(label);
    expectData(gold >= 0, "logiqa", `${file} block ${i + 1}`, `answer "${label}" is not a–d`);
    const context = normalize(lines[1] as string);
    const question = normalize(lines[2] as string);
    const options = lines.slice(3).map((option) => normalize([...option].slice(2).join("")));
    let query = `Passage: ${context}\nQuestion: ${question}\nChoices:\n`;
    letters.forEach((letter, k) => {
      if (k < options.length) {
        query += `${letter.toUpperCase()}. ${options[k]}\n`;
      }
    });
    query += "Answer:";
    return { passage: context, query, choices: options, gold };
  });
}

export const logiqa: Task<LogiqaDoc> = {
  name: "logiqa",
  version: 0,
  evalSplit: "test",
  evalFiles: ["logiqa/Test.txt"],
  hasTrainingDocs: true,
  trainFiles: ["logiqa/Train.txt"],
  aggregations: MULTIPLE_CHOICE_AGGREGATIONS,
  loadDocs: (dataDir) => load(dataDir, "logiqa/Test.txt"),
  loadTrainingDocs: (dataDir) =>
    hasDataFiles(dataDir, logiqa.trainFiles) ? load(dataDir, "logiqa/Train.txt") : null,
  docToText: (doc) => doc.query,
  docToTarget: multipleChoiceTarget,
  constructRequests: multipleChoiceRequests,
  processResults: multipleChoiceResults,
};
