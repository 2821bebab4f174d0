// Differential check of trainBpe against Hugging Face tokenizers' BpeTrainer (0.22.2, through the napi
// binding @anush008/tokenizers, a devDependency) on seeded random corpora built to make many ties and
// re-formed tokens (few letters, repeated words): same vocab and merges, and HF loads our tokenizer.json
// and encodes the corpus to the ids our Tokenizer gives. Prints mismatches and exits 1 on any.
//   npx tsup && node scripts/check-train-vs-hf.mjs [corpora=200] [seed=1]
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as OurTokenizer } from "../dist/index.js";
import { trainBpe, trainedTokenizerJson } from "../dist/train.js";

const require = createRequire(import.meta.url);
const { Tokenizer, BPE, byteLevelPreTokenizer } = require("@anush008/tokenizers");

const corpora = Number(process.argv[2] ?? 200);
let state = Number(process.argv[3] ?? 1) >>> 0 || 1;
function random() {
  // xorshift32
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 2 ** 32;
}
const pick = (items) => items[Math.floor(random() * items.length)];

const dir = mkdtempSync(join(tmpdir(), "bpe-vs-hf-"));
// HF prints its progress bars to stdout; keep ours readable by writing results to stderr.
let failures = 0;
for (let index = 0; index < corpora; index++) {
  const letters = pick([
    "ab",
    "abc",
    "ab ",
    "abc \n",
    "aé b",
    "xyz12 ",
    "ab\t\n",
    "it's re'll 42!?\n",
    "日本 語's1\r\n",
  ]);
  const lines = [];
  const lineCount = 1 + Math.floor(random() * 30);
  for (let l = 0; l < lineCount; l++) {
    let line = "";
    const length = Math.floor(random() * 40);
    for (let c = 0; c < length; c++) {
      line += letters[Math.floor(random() * letters.length)];
    }
    lines.push(line);
  }
  const text = lines.join("\n") + (random() < 0.5 ? "\n" : "");
  const file = join(dir, `corpus-${index}.txt`);
  writeFileSync(file, text);

  const hf = new Tokenizer(BPE.empty());
  hf.setPreTokenizer(byteLevelPreTokenizer(false, true));
  hf.train([file]);
  const hfPath = join(dir, `hf-${index}.json`);
  hf.save(hfPath, false);
  const theirs = JSON.parse(readFileSync(hfPath, "utf8")).model;
  const oursText = trainedTokenizerJson(await trainBpe({ files: [file], workers: index % 3 }));
  const ours = JSON.parse(oursText);
  const oursPath = join(dir, `ours-${index}.json`);
  writeFileSync(oursPath, oursText);
  const hfIds = [
    ...(await Tokenizer.fromFile(oursPath).encode(text, null, { addSpecialTokens: false })).getIds(),
  ];
  const sameIds = JSON.stringify(hfIds) === JSON.stringify(OurTokenizer.fromJSON(ours).encode(text));
  const sameVocab =
    JSON.stringify(Object.entries(ours.model.vocab).sort((a, b) => a[1] - b[1])) ===
    JSON.stringify(Object.entries(theirs.vocab).sort((a, b) => a[1] - b[1]));
  const sameMerges = JSON.stringify(ours.model.merges) === JSON.stringify(theirs.merges);
  if (!sameVocab || !sameMerges || !sameIds) {
    failures++;
    process.stderr.write(
      `corpus ${index} (${file}): vocab ${sameVocab ? "same" : "DIFFERS"}, merges ${sameMerges ? "same" : "DIFFER"}, ` +
        `HF encoding with our file ${sameIds ? "same" : "DIFFERS"}\n`,
    );
  }
}
process.stderr.write(
  `${corpora - failures}/${corpora} corpora: vocab and merges identical to HF tokenizers, and HF encodes with our file as we do\n`,
);
process.exitCode = failures === 0 ? 0 : 1;
