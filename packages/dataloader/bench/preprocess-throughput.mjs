// Preprocessing throughput (tokens/s) of @pythia/dataloader with 0, 1 and 2 tokenizer worker threads,
// against a reference measured in the same run: the bare tokenizer encoding the same documents on
// one thread (no I/O, no JSON, no .bin writing), so the ratio shows what the pipeline adds or wins.
//
// Run from packages/dataloader after building (npx tsup): node bench/preprocess-throughput.mjs
// Corpus: Tiny Shakespeare paragraphs + LAMBADA test passages, repeated to ~40 MB of JSONL, from
// $PYTHIA_SHARED_DATA (default <repo>/../shared/data).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { preprocess } from "../dist/index.js";

const repoRoot = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const shared = process.env.PYTHIA_SHARED_DATA ?? path.resolve(repoRoot, "../shared/data");
const read = (relative) => {
  const file = path.join(shared, relative);
  try {
    return readFileSync(file, "utf8");
  } catch {
    console.error(`missing ${file}: set PYTHIA_SHARED_DATA to the folder holding shared/data`);
    process.exit(1);
  }
};

const paragraphs = read("corpus/tinyshakespeare/input.txt").split(/\n\s*\n/);
const lambada = read("eval/lambada_openai/lambada_test.jsonl")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line).text);
const base = [...paragraphs, ...lambada];
const documents = [];
let bytes = 0;
// Repeat with a pass number so later passes are not identical strings (the word cache still helps, as on real data).
for (let pass = 0; bytes < 40e6; pass++) {
  for (const text of base) {
    const document = `${text} (${pass})`;
    documents.push(document);
    bytes += Buffer.byteLength(document);
  }
}
const dir = mkdtempSync(path.join(tmpdir(), "pythia-pre-bench-"));
const input = path.join(dir, "corpus.jsonl");
writeFileSync(input, documents.map((text) => JSON.stringify({ text })).join("\n") + "\n");
console.log(`corpus: ${documents.length} documents, ${(bytes / 1e6).toFixed(2)} MB of text`);

const tokenizer = await loadPileTokenizer();
tokenizer.encodeBatch(documents.slice(0, 2000)); // JIT warm-up
let started = performance.now();
let referenceTokens = 0;
for (const document of documents) {
  referenceTokens += tokenizer.encode(document).length + 1;
}
const referenceRate = referenceTokens / ((performance.now() - started) / 1000);
console.log(`reference (tokenizer.encode loop, 1 thread): ${Math.round(referenceRate)} tokens/s`);

const rows = [];
for (const workers of [0, 1, 2]) {
  started = performance.now();
  const summary = await preprocess({ inputs: [input], outputPrefix: path.join(dir, `w${workers}`), workers });
  const seconds = (performance.now() - started) / 1000;
  if (summary.tokens !== referenceTokens) {
    console.error(`token count mismatch: ${summary.tokens} vs ${referenceTokens}`);
    process.exit(1);
  }
  const rate = summary.tokens / seconds;
  rows.push({ workers, seconds, rate });
  console.log(
    `workers=${workers}: ${seconds.toFixed(2)} s, ${Math.round(rate)} tokens/s, ${(rate / referenceRate).toFixed(2)}x the bare tokenizer`,
  );
}
console.log("\n| workers | seconds | tokens/s | vs bare tokenizer (1 thread) |\n|---:|---:|---:|---:|");
for (const row of rows) {
  console.log(
    `| ${row.workers} | ${row.seconds.toFixed(2)} | ${Math.round(row.rate)} | ${(row.rate / referenceRate).toFixed(2)}x |`,
  );
}
rmSync(dir, { recursive: true, force: true });
