// Encode a sample text with the bundled Pile BPE and show what each token covers.
// Run from the repository root: pnpm train   (or, in this package: pnpm example)
import { loadPileTokenizer } from "@pythia/tokenizer";

const text =
  "ROMEO: But, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun.";
const tokenizer = await loadPileTokenizer();
const ids = tokenizer.encode(text);
const { offsets } = tokenizer.encodeWithOffsets(text);

console.log(`tokenizer: GPT-NeoX-20B / Pythia BPE, ${tokenizer.vocabSize} tokens`);
console.log(`text: ${JSON.stringify(text)}`);
console.log(`${ids.length} tokens: ${JSON.stringify(ids)}`);
console.log(
  offsets.map(([start, end], i) => `${ids[i]}=${JSON.stringify(text.slice(start, end))}`).join(" "),
);
console.log(`decode(ids) round-trips: ${tokenizer.decode(ids) === text}`);
