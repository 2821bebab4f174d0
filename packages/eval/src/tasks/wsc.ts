/**
 * `wsc` (harness `superglue.SGWinogradSchemaChallenge`, VERSION 0): SuperGLUE WSC validation, 104
 * items, yes/no. This is the "wsc" of Pythia's result JSONs (not `wsc273`).
 */
import { expectData, hasDataFiles, parseJsonLines, readDataFile } from "../data-files.js";
import type { Task } from "../task.js";

export interface WscDoc {
  text: string;
  span1_index: number;
  span2_index: number;
  span1_text: string;
  span2_text: string;
  idx: number;
  label: 0 | 1;
}

interface WscRow {
  text?: unknown;
  target?: { span1_index?: unknown; span2_index?: unknown; span1_text?: unknown; span2_text?: unknown };
  idx?: unknown;
  label?: unknown;
}

function load(dataDir: string, file: string, positiveOnly: boolean): WscDoc[] {
  const rows = parseJsonLines<WscRow>(readDataFile(dataDir, file, "wsc"), file, "wsc");
  const docs = rows.map((row, i): WscDoc => {
    const target = row.target;
    expectData(
      typeof row.text === "string" &&
        target !== undefined &&
        typeof target.span1_index === "number" &&
        typeof target.span2_index === "number" &&
        typeof target.span1_text === "string" &&
        typeof target.span2_text === "string" &&
        typeof row.label === "boolean",
      "wsc",
      `${file}:${i + 1}`,
      "expected the SuperGLUE WSC jsonl schema {text, target: {span1_index, span2_index, span1_text, span2_text}, idx, label}",
    );
    return {
      text: row.text,
      span1_index: target.span1_index,
      span2_index: target.span2_index,
      span1_text: target.span1_text,
      span2_text: target.span2_text,
      idx: typeof row.idx === "number" ? row.idx : i,
      label: row.label ? 1 : 0,
    };
  });
  // GPT-3's format, kept by the harness: few-shot "training" uses positive examples only.
  return positiveOnly ? docs.filter((doc) => doc.label === 1) : docs;
}

/** The harness's `general_detokenize`. */
export function generalDetokenize(text: string): string {
  return text
    .replaceAll(" n't", "n't")
    .replaceAll(" )", ")")
    .replaceAll("( ", "(")
    .replaceAll('" ', '"')
    .replaceAll(' "', '"')
    .replace(/ (['.,])/g, "$1");
}

/** Python's `str.split()` (runs of whitespace, no empty strings). */
function pythonSplit(text: string): string[] {
  // eslint-disable-next-line no-control-regex -- Python's str.isspace() includes U+001C–U+001F
  return text.split(/[\s\x1c-\x1f\x85]+/u).filter((word) => word !== "");
}

export const wsc: Task<WscDoc> = {
  name: "wsc",
  version: 0,
  evalSplit: "validation",
  evalFiles: ["superglue_wsc/val.jsonl"],
  hasTrainingDocs: true,
  trainFiles: ["superglue_wsc/train.jsonl"],
  aggregations: { acc: "mean" },
  loadDocs: (dataDir) => load(dataDir, "superglue_wsc/val.jsonl", false),
  loadTrainingDocs: (dataDir) =>
    hasDataFiles(dataDir, wsc.trainFiles) ? load(dataDir, "superglue_wsc/train.jsonl", true) : null,
  docToText(doc) {
    const raw = [...doc.text];
    const pre = pythonSplit(doc.text).slice(0, doc.span2_index).join(" ");
    const post = raw.slice([...pre].length + [...doc.span2_text].length + 1).join("");
    const passage = generalDetokenize(`${pre} *${doc.span2_text}*${post}`);
    return (
      `Passage: ${passage}\n` +
      `Question: In the passage above, does the pronoun "*${doc.span2_text}*" refer to "*${doc.span1_text}*"?\n` +
      "Answer:"
    );
  },
  docToTarget: (doc) => (doc.label ? " yes" : " no"),
  constructRequests: (_doc, context) => [
    { context, continuation: " yes" },
    { context, continuation: " no" },
  ],
  processResults(doc, results) {
    const yes = results[0]?.ll ?? Number.NaN;
    const no = results[1]?.ll ?? Number.NaN;
    return { acc: (yes > no ? 1 : 0) === doc.label ? 1 : 0 };
  },
};
