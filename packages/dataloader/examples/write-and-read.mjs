// Write a tiny tokenized dataset in GPT-NeoX's format, then read the batch Pythia's data order serves at a step.
// Run from the repository root after `pnpm build`: node packages/dataloader/examples/write-and-read.mjs
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { buildIndexMaps, GPT2Dataset, IndexedDataset, IndexedDatasetBuilder } from "@pythia/dataloader";

const tokenizer = await loadPileTokenizer();
const prefix = join(mkdtempSync(join(tmpdir(), "pythia-example-")), "tiny_text_document");

// 1. One item per document, EOD (id 0) appended: what GPT-NeoX's preprocess_data.py writes.
const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
for (const text of [
  "It is the east, and Juliet is the sun.",
  "Arise, fair sun, and kill the envious moon.",
  "O Romeo, Romeo!",
]) {
  builder.addItem([...tokenizer.encode(text), 0]);
  builder.endDocument();
}
console.log(builder.finalize());

// 2. Random access to documents.
const dataset = IndexedDataset.open(prefix);
console.log(`document 2: ${tokenizer.decode(dataset.get(2))}`);

// 3. GPT-NeoX's GPT2Dataset order (seed 1234, as Pythia): samples of seqLength + 1 tokens, shuffled.
//    (GPT2Dataset.open({ prefix, ... }) does the same and caches the index maps as .npy like GPT-NeoX.)
const seqLength = 8;
const indexMaps = buildIndexMaps({ sizes: dataset.sizes, numSamples: 6, seqLength, seed: 1234 });
console.log(
  `${indexMaps.numEpochs} epochs; the order serves ${new GPT2Dataset({ dataset, indexMaps }).length} samples`,
);
const order = new GPT2Dataset({ dataset, indexMaps });
const step = 1;
const batchSize = 2;
const batch = order.samples(step * batchSize, batchSize); // row-major [batchSize, seqLength + 1]
for (let row = 0; row < batchSize; row++) {
  const sample = batch.subarray(row * (seqLength + 1), (row + 1) * (seqLength + 1));
  console.log(`batch ${step}, row ${row}: ${JSON.stringify(tokenizer.decode(sample))}`);
}
dataset.close();
