/** `lambada_openai` (harness `lambada.LambadaOpenAI`, VERSION 0): the OpenAI LAMBADA test jsonl. */
import { expectData, parseJsonLines, readDataFile } from "../data-files.js";
import type { Task } from "../task.js";

export interface LambadaDoc {
  text: string;
}

const FILE = "lambada_openai/lambada_test.jsonl";

function split(text: string): [string, string] {
  const i = text.lastIndexOf(" ");
  return i < 0 ? [text, ""] : [text.slice(0, i), text.slice(i + 1)];
}

export const lambadaOpenai: Task<LambadaDoc> = {
  name: "lambada_openai",
  version: 0,
  evalSplit: "validation",
  evalFiles: [FILE],
  hasTrainingDocs: false,
  trainFiles: [],
  aggregations: { ppl: "perplexity", acc: "mean" },
  loadDocs(dataDir) {
    const rows = parseJsonLines<{ text?: unknown }>(
      readDataFile(dataDir, FILE, "lambada_openai"),
      FILE,
      "lambada_openai",
    );
    return rows.map((row, i) => {
      expectData(
        typeof row.text === "string",
        "lambada_openai",
        `${FILE}:${i + 1}`,
        'expected {"text": string}',
      );
      return { text: row.text };
    });
  },
  loadTrainingDocs: () => null,
  docToText: (doc) => split(doc.text)[0],
  docToTarget: (doc) => ` ${split(doc.text)[1]}`,
  constructRequests(doc, context) {
    return [{ context, continuation: ` ${split(doc.text)[1]}` }];
  },
  processResults(_doc, results) {
    const result = results[0];
    return { ppl: result?.ll ?? Number.NaN, acc: result?.isGreedy ? 1 : 0 };
  },
};
