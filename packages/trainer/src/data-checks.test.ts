import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import { initCompute } from "@pythia/model";
import { beforeAll, describe, expect, it } from "vitest";
import { checkTrainingData, parseTrainConfig, train, TrainingError } from "./index.js";
import { runDir, tinyConfig, tinyDataset } from "../test/helpers.js";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

/** A uint16 dataset of the given documents; returns its prefix. */
function dataset(documents: number[][]): string {
  const prefix = join(mkdtempSync(join(tmpdir(), "pythia-data-checks-")), "data");
  const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
  for (const ids of documents) {
    builder.addItem(ids);
    builder.endDocument();
  }
  builder.finalize();
  return prefix;
}

/** The tiny corpus with one out-of-vocabulary id (60000 for a vocabulary of 64) in document 30. */
function datasetWithBadId(): string {
  const good = Array.from({ length: 40 }, (_, doc) =>
    Array.from({ length: 10 }, (_, i) => 1 + ((doc + i) % 62)),
  );
  good[30]![4] = 60000;
  return dataset(good);
}

const caught = async (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe("data checks before the first step", () => {
  it("refuses an out-of-vocabulary id before writing anything, naming file, id, offset and fix", async () => {
    const prefix = datasetWithBadId();
    for (const data of [
      { kind: "index-map" as const, prefix },
      { kind: "preshuffled" as const, prefix },
    ]) {
      const out = runDir();
      const error = await caught(train({ config: tinyConfig({ steps: 2 }), data, out }));
      expect(TrainingError.isInstance(error) && error.code).toBe("DATA");
      // Document 30 starts at token 300; the bad id is its 5th token: token 304, byte 608.
      expect((error as Error).message).toBe(
        `${prefix}.bin: token id 60000 at byte offset 608 (item 30, position 4) is outside the model's vocabulary of 64 ids; re-tokenize the data with the model's tokenizer or raise model.vocabSize`,
      );
      expect((error as Error).message).not.toContain("\n");
      expect(existsSync(out)).toBe(false);
    }
  });

  it("checks a pre-shuffled validation set too", () => {
    const bad = datasetWithBadId();
    expect(() =>
      checkTrainingData({
        config: parseTrainConfig(tinyConfig({ steps: 2 })),
        data: { kind: "preshuffled", prefix: tinyDataset(), validationPrefix: bad },
      }),
    ).toThrow(`${bad}.bin: token id 60000 at byte offset 608`);
  });

  it("refuses data too small for the requested samples, leaving no run directory", async () => {
    const small = dataset([[1, 2, 3]]);
    let out = runDir();
    let error = await caught(
      train({ config: tinyConfig({ steps: 2 }), data: { kind: "preshuffled", prefix: small }, out }),
    );
    expect((error as Error).message).toBe(
      `${small}: 0 rows of 9 tokens, but 2 steps × 4 need 8; use more data or fewer steps`,
    );
    expect(existsSync(out)).toBe(false);
    const empty = dataset([[], []]);
    out = runDir();
    error = await caught(
      train({ config: tinyConfig({ steps: 2 }), data: { kind: "index-map", prefix: empty }, out }),
    );
    expect(TrainingError.isInstance(error) && error.code).toBe("DATA");
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${empty}: the 1 training documents cannot serve 8 samples \\(.*\\); use more data or fewer steps$`,
      ),
    );
    expect(existsSync(out)).toBe(false);
  });

  it("accepts data whose ids all fit", () => {
    expect(() =>
      checkTrainingData({
        config: parseTrainConfig(tinyConfig()),
        data: { kind: "index-map", prefix: tinyDataset() },
      }),
    ).not.toThrow();
  });
});
