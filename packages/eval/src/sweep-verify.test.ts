import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { initCompute, ModelError } from "@pythia/model";
import { beforeAll, describe, expect, it } from "vitest";
import { sweep } from "./sweep.js";
import { runWithDamagedCheckpoint } from "../test/damaged-run.js";

// Issue 13, case 2: a sweep reads each checkpoint through loadCheckpoint, which checks its files
// against manifest.json; a bit-flipped checkpoint is refused before any request is scored.

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

describe("sweep verifies checkpoints", () => {
  it("refuses a bit-flipped step0/model.safetensors with the file and the fix, and writes no results", async () => {
    const runDir = await runWithDamagedCheckpoint({ steps: [0, 2], damaged: 0 });
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
