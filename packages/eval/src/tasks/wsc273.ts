/**
 * `wsc273` (harness `wsc273.WinogradSchemaChallenge273`, VERSION 0): the first 273 schemas of
 * `WSCollection.xml`, read as HF's `winograd_wsc` script reads them (whitespace collapsed, text =
 * txt1 + " " + pron + " " + txt2, pronoun_loc = len(txt1) + 1), then the harness's option
 * normalisation and partial scoring. Not part of Pythia's result JSONs.
 */
import { join } from "node:path";
import { readFileSync, existsSync } from "node:fs";
import { EvalError } from "../eval-errors.js";
import { expectData } from "../data-files.js";
import { argmax } from "../metrics.js";
import type { Task } from "../task.js";
import { appendContext } from "./winogrande.js";

export interface Wsc273Doc {
  text: string;
  pronoun: string;
  pronoun_loc: number;
  options: [string, string];
  label: number;
}

const FILE = "wsc273/WSCollection.xml";
const UPPER_PRONOUNS = ["A", "An", "The", "She", "He", "It", "They", "My", "His", "Her", "Their"];

function unescapeXml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}

const cleanup = (text: string) =>
  text
    // eslint-disable-next-line no-control-regex -- Python's str.isspace() includes U+001C–U+001F
    .split(/[\s\x1c-\x1f\x85]+/u)
    .filter((word) => word !== "")
    .join(" ");

function element(xml: string, path: string[]): string {
  let scope = xml;
  for (const name of path) {
    const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(scope);
    if (match === null) {
      return "";
    }
    scope = match[1] as string;
  }
  return unescapeXml(scope);
}

function normalizeOption(doc: Omit<Wsc273Doc, "options">, option: string): string {
  let out = option;
  if (["my", "his", "her", "our", "their"].includes(doc.pronoun.toLowerCase())) {
    out += "'s";
  }
  const pronoun = out.split(/\s+/u).filter((word) => word !== "")[0] ?? "";
  const startOfSentence = [...doc.text][doc.pronoun_loc - 2] === ".";
  if (!startOfSentence && UPPER_PRONOUNS.includes(pronoun)) {
    return out.replaceAll(pronoun, pronoun.toLowerCase());
  }
  return out;
}

function load(dataDir: string): Wsc273Doc[] {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) {
    throw new EvalError(
      "DATA_MISSING",
      `wsc273: ${path} is missing; point --data-dir at a folder with ${FILE}`,
    );
  }
  const xml = readFileSync(path, "latin1");
  const schemas = [...xml.matchAll(/<schema>([\s\S]*?)<\/schema>/g)].map((match) => match[1] as string);
  expectData(schemas.length >= 273, "wsc273", FILE, `expected at least 273 schemas, found ${schemas.length}`);
  return schemas.slice(0, 273).map((schema, i) => {
    const left = cleanup(element(schema, ["text", "txt1"]));
    const right = cleanup(element(schema, ["text", "txt2"]));
    const pronoun = cleanup(element(schema, ["text", "pron"]));
    const text = cleanup([left, pronoun, right].join(" ")).replaceAll("  ", " ");
    const answers = [...(element(schema, ["answers"]).matchAll(/<answer>([\s\S]*?)<\/answer>/g) ?? [])].map(
      (match) => cleanup(unescapeXml(match[1] as string)),
    );
    expectData(
      answers.length === 2,
      "wsc273",
      `${FILE} schema ${i}`,
      `expected 2 answers, found ${answers.length}`,
    );
    const correct = cleanup(element(schema, ["correctAnswer"])).replace(/\.$/, "");
    const label = correct.charCodeAt(0) - "A".charCodeAt(0);
    expectData(label === 0 || label === 1, "wsc273", `${FILE} schema ${i}`, `correctAnswer "${correct}"`);
    const base = { text, pronoun, pronoun_loc: [...left].length + 1, label };
    return {
      ...base,
      options: [normalizeOption(base, answers[0] as string), normalizeOption(base, answers[1] as string)],
    };
  });
}

function partialContext(doc: Wsc273Doc, option: string): string {
  return [...doc.text].slice(0, doc.pronoun_loc).join("") + option;
}

function partialTarget(doc: Wsc273Doc): string {
  const start = doc.pronoun_loc + [...doc.pronoun].length;
  return ` ${[...doc.text].slice(start).join("").trim()}`;
}

export const wsc273: Task<Wsc273Doc> = {
  name: "wsc273",
  version: 0,
  evalSplit: "test",
  evalFiles: [FILE],
  hasTrainingDocs: false,
  trainFiles: [],
  aggregations: { acc: "mean" },
  loadDocs: load,
  loadTrainingDocs: () => null,
  docToText: (doc) => partialContext(doc, doc.options[doc.label] ?? ""),
  docToTarget: partialTarget,
  constructRequests(doc, context) {
    const target = partialTarget(doc);
    return doc.options.map((option) => ({
      context: appendContext(context, partialContext(doc, option)),
      continuation: target,
    }));
  },
  processResults(doc, results) {
    return { acc: argmax(results.map((result) => result.ll)) === doc.label ? 1 : 0 };
  },
};
