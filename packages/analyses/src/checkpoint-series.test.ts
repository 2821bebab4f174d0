import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import { describe, expect, it } from "vitest";
import { openCheckpointSeries } from "./training-run.js";

/** A folder of checkpoints: only config.json matters for discovery. */
function folder(layout: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "pythia-series-"));
  for (const [path, contents] of Object.entries(layout)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), contents);
  }
  return dir;
}

describe("checkpoint series without a run.json", () => {
  it("finds step{N}/ HF checkpoints and serves pre-shuffled rows in training order", async () => {
    const dir = folder({
      "step1000/config.json": "{}",
      "step0/config.json": "{}",
      "step512/config.json": "{}",
      "notes/config.json": "{}",
      "step9/x": "",
    });
    const prefix = join(dir, "rows");
    const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
    for (let row = 0; row < 6; row++) {
      builder.addItem(Array.from({ length: 5 }, (_, t) => row * 10 + t)); // rows of seqLength + 1 = 5 tokens
      builder.endDocument();
    }
    builder.finalize();
    const series = await openCheckpointSeries({ dir, dataPrefix: prefix, batchSize: 2, seqLength: 4 });
    expect(series.checkpointSteps).toEqual([0, 512, 1000]);
    expect(series.checkpointDir(512)).toBe(join(dir, "step512"));
    expect(series.rowCount).toBe(6);
    expect(series.rows(3, 2).map((row) => Array.from(row))).toEqual([
      [30, 31, 32, 33, 34],
      [40, 41, 42, 43, 44],
    ]);
    expect(series.seenAt(2)).toBe(4);
    expect(() => series.rows(5, 2)).toThrow(/rows \[5, 7\) are outside its 6 rows of 5 tokens/);
    expect(() => series.checkpointDir(7)).toThrow(/no checkpoint step7 \(have 0, 512, 1000\)/);
    series.close();
  });

  it("reads the revisions of a Hugging Face cache folder (pythia-hub pull) and defaults to Pythia's shape", async () => {
    const dir = folder({
      "refs/step143000": "abc\n",
      "refs/main": "abc",
      "refs/step1": "def",
      "snapshots/abc/config.json": "{}",
      "snapshots/def/config.json": "{}",
    });
    const series = await openCheckpointSeries({ dir });
    expect(series.checkpointSteps).toEqual([1, 143000]);
    expect(series.checkpointDir(143000)).toBe(join(dir, "snapshots", "abc"));
    expect([series.batchSize, series.rowLength, series.rowCount]).toEqual([1024, 2049, 0]);
    expect(() => series.rows(0, 1)).toThrow(
      /holds checkpoints but no training data; pass the pre-shuffled .bin\/.idx prefix/,
    );
    // The cache root with one model in it is taken for that model; with two, both are named.
    const cache = folder({});
    renameSync(dir, join(cache, "models--EleutherAI--pythia-70m"));
    expect((await openCheckpointSeries({ dir: cache })).checkpointSteps).toEqual([1, 143000]);
    mkdirSync(join(cache, "models--EleutherAI--pythia-160m"));
    await expect(openCheckpointSeries({ dir: cache })).rejects.toThrow(
      /a Hugging Face cache with 2 models; pass one of their folders/,
    );
  });

  it("says what it accepts when the folder holds no checkpoints", async () => {
    await expect(openCheckpointSeries({ dir: folder({ "a.txt": "" }) })).rejects.toThrow(
      /no run\.json, no step\{N\}\/ folders with a config\.json and no refs\/step\{N\}/,
    );
  });
});
