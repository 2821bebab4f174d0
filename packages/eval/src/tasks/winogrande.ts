/**
 * `winogrande` (harness `winogrande.Winogrande`, VERSION 0): WinoGrande XL validation with partial
 * scoring: two contexts `sentence[:i] + option` (i = index of "_") sharing the continuation
 * `" " + sentence[i+1:].strip()`. Reads the original `{sentence, option1, option2, answer}` rows and the
 * MosaicML `{context_options, continuation, gold}` rows of the project's copy, from which the doc is
 * rebuilt as `prefix + "_ " + continuation` (prefix: the options' common prefix, cut to a word boundary).
 */
import { expectData, hasDataFiles, parseJsonLines, readDataFile } from "../data-files.js";
import { argmax } from "../metrics.js";
import type { Task } from "../task.js";

export interface WinograndeDoc {
  sentence: string;
  option1: string;
  option2: string;
  answer: "1" | "2";
}

interface WinograndeRow {
  sentence?: unknown;
  option1?: unknown;
  option2?: unknown;
  answer?: unknown;
  context_options?: unknown;
  continuation?: unknown;
  gold?: unknown;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) {
    i++;
  }
  return a.slice(0, i);
}

function load(dataDir: string, file: string, labelsFile: string | null): WinograndeDoc[] {
  const rows = parseJsonLines<WinograndeRow>(readDataFile(dataDir, file, "winogrande"), file, "winogrande");
  const labels =
    labelsFile === null
      ? null
      : readDataFile(dataDir, labelsFile, "winogrande")
          .split("\n")
          .filter((line) => line.trim() !== "");
  return rows.map((row, i) => {
    const where = `${file}:${i + 1}`;
    if (typeof row.sentence === "string") {
      expectData(
        typeof row.option1 === "string" && typeof row.option2 === "string",
        "winogrande",
        where,
        "expected option1 and option2",
      );
      const answer = String(row.answer ?? labels?.[i]?.trim() ?? "");
      expectData(
        answer === "1" || answer === "2",
        "winogrande",
        where,
        `answer "${answer}" is not "1" or "2"`,
      );
      return { sentence: row.sentence, option1: row.option1, option2: row.option2, answer };
    }
    const options = row.context_options;
    expectData(
      Array.isArray(options) &&
        options.length === 2 &&
        options.every((option) => typeof option === "string") &&
        typeof row.continuation === "string" &&
        (row.gold === 0 || row.gold === 1),
      "winogrande",
      where,
      "expected {sentence, option1, option2, answer} or {context_options: [2 strings], continuation, gold: 0|1}",
    );
    const [first, second] = options as [string, string];
    let prefix = commonPrefix(first, second);
    prefix = prefix.slice(0, prefix.lastIndexOf(" ") + 1);
    expectData(!prefix.includes("_"), "winogrande", where, 'the shared prefix contains "_"');
    return {
      sentence: `${prefix}_ ${row.continuation}`,
      option1: first.slice(prefix.length),
      option2: second.slice(prefix.length),
      answer: row.gold === 0 ? "1" : "2",
    };
  });
}

function partialContext(doc: WinograndeDoc, option: string): string {
  return doc.sentence.slice(0, doc.sentence.indexOf("_")) + option;
}

function partialTarget(doc: WinograndeDoc): string {
  return ` ${doc.sentence.slice(doc.sentence.indexOf("_") + 1).trim()}`;
}

/** The harness's `append_context`: few-shot examples stay, the last chunk becomes the partial context. */
export function appendContext(context: string, partial: string): string {
  const chunks = context.split("\n\n");
  chunks.pop();
  return chunks.length > 0 ? [...chunks, partial].join("\n\n") : partial;
}

export const winogrande: Task<WinograndeDoc> = {
  name: "winogrande",
  version: 0,
  evalSplit: "validation",
  evalFiles: ["winogrande/winogrande.jsonl"],
  hasTrainingDocs: true,
  trainFiles: ["winogrande/train_xl.jsonl", "winogrande/train_xl-labels.lst"],
  aggregations: { acc: "mean" },
  loadDocs: (dataDir) => load(dataDir, "winogrande/winogrande.jsonl", null),
  loadTrainingDocs: (dataDir) =>
    hasDataFiles(dataDir, winogrande.trainFiles)
      ? load(dataDir, "winogrande/train_xl.jsonl", "winogrande/train_xl-labels.lst")
      : null,
  docToText: (doc) => partialContext(doc, doc.answer === "1" ? doc.option1 : doc.option2),
  docToTarget: partialTarget,
  constructRequests(doc, context) {
    const target = partialTarget(doc);
    return [doc.option1, doc.option2].map((option) => ({
      context: appendContext(context, partialContext(doc, option)),
      continuation: target,
    }));
  },
  processResults(doc, results) {
    const gold = doc.answer === "1" ? 0 : 1;
    return { acc: argmax(results.map((result) => result.ll)) === gold ? 1 : 0 };
  },
};
