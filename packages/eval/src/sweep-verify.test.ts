import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointDir, writeManifest } from "@pythia/core/run";
import { GPTNeoXModel, initCompute, ModelError, parseConfig, saveCheckpoint } from "@pythia/model";
import { beforeAll, describe, expect, it } from "vitest";
import { sweep } from "./sweep.js";

// Issue 13, case 2: a sweep reads each checkpoint through loadCheckpoint, which checks its files
// against manifest.json; a bit-flipped checkpoint is refused before any request is scored.

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

/** A run with `step0/` (bit-flipped after its manifest was written) and `step2/`. */
async function runWithDamagedStep0(): Promise<string> {
  const runDir = mkdtempSync(join(tmpdir(), "pythia-eval-verify-"));
  const config = parseConfig({
    vocabSize: 64,
    hiddenSize: 8,
    numLayers: 1,
    numHeads: 2,
    intermediateSize: 16,
    maxPositionEmbeddings: 32,
    rotaryPct: 0.5,
  });
  for (const step of [0, 2]) {
    const model = GPTNeoXModel.initialize({ config, seed: step });
    await saveCheckpoint({ model, dir: checkpointDir(runDir, step), includeTokenizer: false });
    model.dispose();
    await writeManifest({ dir: checkpointDir(runDir, step), step });
  }
  const weights = join(checkpointDir(runDir, 0), "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[bytes.length - 8] = (bytes[bytes.length - 8] as number) ^ 0x01;
  writeFileSync(weights, bytes);
  return runDir;
}

describe("sweep verifies checkpoints", () => {
  it("refuses a bit-flipped step0/model.safetensors with the file and the fix, and writes no results", async () => {
    const runDir = await runWithDamagedStep0();
    const outputDir = join(runDir, "evals");
    const tokenizer = {
      encode: () => {
        throw new Error("no request may be built for a damaged checkpoint");
      },
    };
    const error = await sweep({
      runDir,
      tasks: ["wsc"],
      dataDir: join(runDir, "no-data-needed"),
      tokenizer,
      outputDir,
    }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(ModelError.isInstance(error), String(error)).toBe(true);
    expect((error as ModelError).code).toBe("CHECKPOINT_CORRUPT");
    expect((error as Error).message).toMatch(
      /step0\/model\.safetensors: sha256 [0-9a-f]{12}… differs from [0-9a-f]{12}… in .*step0\/manifest\.json; the file is damaged: download or copy the checkpoint again, or use an earlier step$/,
    );
    expect(
      existsSync(outputDir) ? readdirSync(outputDir).filter((file) => file !== "scores.jsonl") : [],
    ).toEqual([]);
  });
});
