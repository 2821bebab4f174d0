import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import type { TrainConfigInput } from "../src/index.js";

/** A small tokenized corpus (vocab 64, 40 documents) in a fresh directory; returns its prefix. */
export function tinyDataset(): string {
  const dir = mkdtempSync(join(tmpdir(), "pythia-train-data-"));
  const prefix = join(dir, "tiny_text_document");
  const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
  let state = 7;
  for (let doc = 0; doc < 40; doc++) {
    const length = 5 + ((doc * 7) % 23);
    const ids: number[] = [];
    for (let i = 0; i < length; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      // A learnable pattern: mostly the previous token + 1, sometimes noise.
      ids.push(i > 0 && state % 4 !== 0 ? ((ids[i - 1] as number) % 62) + 1 : 1 + (state % 62));
    }
    ids.push(0);
    builder.addItem(ids);
    builder.endDocument();
  }
  builder.finalize();
  return prefix;
}

/** A tiny GPT-NeoX training config for tests (a few ms per step on wasm). */
export function tinyConfig(overrides: Partial<TrainConfigInput> = {}): TrainConfigInput {
  return {
    model: {
      vocabSize: 64,
      hiddenSize: 16,
      numLayers: 2,
      numHeads: 2,
      intermediateSize: 64,
      rotaryPct: 0.5,
      maxPositionEmbeddings: 64,
    },
    steps: 12,
    batchSize: 4,
    microBatchSize: 2,
    seqLength: 8,
    lr: 3e-3,
    checkpointEvery: 4,
    seed: 7,
    evalBatches: 2,
    ...overrides,
  };
}

/** A fresh run directory. */
export function runDir(): string {
  return join(mkdtempSync(join(tmpdir(), "pythia-train-run-")), "run");
}
