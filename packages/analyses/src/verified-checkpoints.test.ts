import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointDir, writeManifest } from "@pythia/core/run";
import { ModelError, saveCheckpoint } from "@pythia/model";
import { describe, expect, it } from "vitest";
import { logitLensSeries } from "./lens-series.js";
import { openCheckpointSeries } from "./training-run.js";
import { tinyModel } from "../test/tiny-model.js";

// Issue 13, case 2: a checkpoint series is read through loadCheckpoint, which checks every file
// against the checkpoint's manifest.json; a bit flip is refused instead of giving numbers.

/** A folder with `step0/` and `step8/` checkpoints, each with a manifest as @pythia/trainer writes it. */
async function series(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "pythia-verified-series-"));
  for (const step of [0, 8]) {
    const model = await tinyModel({ vocabSize: 64, numLayers: 2, maxPositionEmbeddings: 16, seed: step });
    await saveCheckpoint({ model, dir: checkpointDir(dir, step), includeTokenizer: false });
    model.dispose();
    await writeManifest({ dir: checkpointDir(dir, step), step });
  }
  return dir;
}

const inputIds = [3, 17, 5, 40, 22, 9];
const decode = (ids: number[]) => ids.join(" ");

describe("analyses over a checkpoint series verify each checkpoint", () => {
  it("refuses a bit-flipped step8/model.safetensors with the file and the fix", async () => {
    const dir = await series();
    const opened = await openCheckpointSeries({ dir, batchSize: 1, seqLength: 8 });
    const intact = await logitLensSeries({ series: opened, inputIds, decode });
    expect(intact.map((checkpoint) => checkpoint.step)).toEqual([0, 8]);

    const weights = join(dir, "step8", "model.safetensors");
    const bytes = readFileSync(weights);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] as number) ^ 0x10;
    writeFileSync(weights, bytes);
    const error = await logitLensSeries({ series: opened, inputIds, decode }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(ModelError.isInstance(error), String(error)).toBe(true);
    expect((error as ModelError).code).toBe("CHECKPOINT_CORRUPT");
    expect((error as Error).message).toMatch(
      /step8\/model\.safetensors: sha256 [0-9a-f]{12}… differs from [0-9a-f]{12}… in .*step8\/manifest\.json; the file is damaged: download or copy the checkpoint again, or use an earlier step$/,
    );
    // The earlier step still verifies and gives the same numbers.
    expect(await logitLensSeries({ series: opened, steps: [0], inputIds, decode })).toEqual(
      intact.slice(0, 1),
    );
    opened.close();
  });
});
