/**
 * ARC documents (harness `arc.ARCEasy` / `arc.ARCChallenge`): `Question: {stem}⏎Answer:`, one
 * continuation per choice in file order, gold = index of answerKey in A–E after mapping "1".."5".
 * Reads the AI2 schema `{id, question: {stem, choices: [{text, label}]}, answerKey}` and the flattened
 * `{id, question, options: [{label, text}], answer}` schema of the project's ARC-Challenge copy.
 */
import { expectData, parseJsonLines, readDataFile } from "../data-files.js";
import type { MultipleChoiceDoc } from "./multiple-choice.js";

export interface ArcDoc extends MultipleChoiceDoc {
  id: string;
  query: string;
}

interface ArcRow {
  id?: unknown;
  question?: unknown;
  answerKey?: unknown;
  options?: unknown;
  answer?: unknown;
}

const NUM_TO_LETTER: Readonly<Record<string, string>> = { "1": "A", "2": "B", "3": "C", "4": "D", "5": "E" };

export function loadArcDocs(dataDir: string, file: string, task: string): ArcDoc[] {
  const rows = parseJsonLines<ArcRow>(readDataFile(dataDir, file, task), file, task);
  return rows.map((row, i) => {
    const where = `${file}:${i + 1}`;
    let stem: unknown;
    let choices: unknown;
    let key: unknown;
    if (typeof row.question === "object" && row.question !== null) {
      const question = row.question as { stem?: unknown; choices?: unknown };
      stem = question.stem;
      choices = question.choices;
      key = row.answerKey;
    } else {
      stem = row.question;
      choices = row.options;
      key = row.answer ?? row.answerKey;
    }
    expectData(typeof stem === "string", task, where, "no question stem");
    expectData(
      Array.isArray(choices) &&
        choices.every((choice) => typeof (choice as { text?: unknown })?.text === "string"),
      task,
      where,
      "expected choices [{text, label}]",
    );
    expectData(typeof key === "string", task, where, "no answer key");
    const letter = NUM_TO_LETTER[key] ?? key;
    const gold = ["A", "B", "C", "D", "E"].indexOf(letter);
    expectData(gold >= 0, task, where, `answer key "${key}" is not A–E or 1–5`);
    return {
      id: String(row.id),
      query: `Question: ${stem}\nAnswer:`,
      choices: (choices as Array<{ text: string }>).map((choice) => choice.text),
      gold,
    };
  });
}
