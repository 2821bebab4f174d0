// Regenerates test/fixtures/offsets.jsonl: token offsets from the Hugging Face tokenizers Rust library
// (0.22.2, through the napi binding @anush008/tokenizers@0.6.0, a devDependency).
// Run: pnpm --filter @pythia/tokenizer fixtures:offsets
// Texts: every `text` of test/fixtures/cases.jsonl plus the normalization edge cases below.
// Offsets are the binding's `getOffsets()`: [start, end) in Unicode code points of the input text,
// after the ByteLevel post-processor's trim_offsets.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import tokenizers from "@anush008/tokenizers";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const tokenizer = tokenizers.Tokenizer.fromFile(here("../data/gpt-neox-20b/tokenizer.json"));
const extra = [
  "x\u0301\u0316 q", // reordered marks, no composition
  "a\u0301\u0316b", // composition plus reorder
  "e\u0301\u0301 x", // composition, one mark left over
  "\u212B x", // singleton decomposition
  "\u1100\u1161\u11A8 k", // three jamo compose into one syllable
  "\uFA10 z", // compatibility ideograph
  "\u0344 y", // one character expands to two
  " \u0301x", // a mark after a space
  "😀 a  b<|endoftext|>  c", // astral character, space runs, special token
  "Caf\u00e9 na\u0131\u0308ve cafe\u0301\n\n\tend  ",
];
const texts = [
  ...readFileSync(here("../test/fixtures/cases.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line).text),
  ...extra,
];
const lines = [];
for (const text of texts) {
  const encoding = await tokenizer.encode(text, null, { addSpecialTokens: false });
  lines.push(JSON.stringify({ text, ids: encoding.getIds(), offsets: encoding.getOffsets() }));
}
writeFileSync(here("../test/fixtures/offsets.jsonl"), lines.join("\n") + "\n");
console.log(`wrote ${lines.length} cases`);
