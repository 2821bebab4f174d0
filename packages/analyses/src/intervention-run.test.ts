import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import { initCompute } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer/node";
import { completeCheckpointSteps } from "@pythia/core/run";
import { train } from "@pythia/trainer";
import { beforeAll, describe, expect, it } from "vitest";
import { interventionRun } from "./intervention-run.js";

let dir = "";
let baseline = "";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
  const tokenizer = await loadPileTokenizer();
  dir = mkdtempSync(join(tmpdir(), "pythia-intervene-"));
  const prefix = join(dir, "corpus_text_document");
  const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
  for (let doc = 0; doc < 24; doc++) {
    builder.addItem([
      ...tokenizer.encode(`He said his friend ${doc} told him that he would go. `.repeat(3)),
      0,
    ]);
    builder.endDocument();
  }
  builder.finalize();
  baseline = join(dir, "baseline");
  await train({
    config: {
      model: {
        vocabSize: 50304,
        hiddenSize: 16,
        numLayers: 1,
        numHeads: 2,
        intermediateSize: 32,
        rotaryPct: 0.25,
        maxPositionEmbeddings: 64,
      },
      steps: 6,
      batchSize: 2,
      microBatchSize: 2,
      seqLength: 32,
      lr: 3e-3,
      checkpointEvery: 3,
      logSpacedUpTo: 0,
      seed: 5,
      evalBatches: 1,
    },
    data: { kind: "index-map", prefix },
    out: baseline,
  });
});

const weights = (run: string, step: number) => readFileSync(join(run, `step${step}`, "model.safetensors"));

describe("intervention run", () => {
  it("retrains the last steps with the swap; with an empty map it reproduces the baseline byte for byte", async () => {
    const control = join(dir, "control");
    const summary = await interventionRun({ baseline, out: control, resumeStep: 3, map: new Map() });
    expect(summary).toMatchObject({ resumeStep: 3, fromStep: 4, toStep: 7 });
    expect(await completeCheckpointSteps({ dir: control })).toEqual([3, 6]);
    expect(weights(control, 6).equals(weights(baseline, 6))).toBe(true);

    const intervened = join(dir, "intervened");
    await interventionRun({ baseline, out: intervened, percent: 50 });
    expect(weights(intervened, 3).equals(weights(baseline, 3))).toBe(true);
    expect(weights(intervened, 6).equals(weights(baseline, 6))).toBe(false);
    const record = JSON.parse(readFileSync(join(intervened, "intervention.json"), "utf8"));
    expect(record).toMatchObject({ resume_step: 3, from_step: 4, to_step: 7, intervention: "pronoun-swap" });
    expect(record.map).toContainEqual([344, 703]); // " he" → " she"
    // 40% of 6 steps starts at step 4, between checkpoints: it resumes from step 3, the newest before.
    const snapped = await interventionRun({ baseline, out: join(dir, "snapped"), percent: 40 });
    expect(snapped).toMatchObject({ resumeStep: 3, fromStep: 4 });
    // Rerunning a finished intervention trains nothing and changes nothing.
    const before = weights(intervened, 6);
    await interventionRun({ baseline, out: intervened, percent: 50 });
    expect(weights(intervened, 6).equals(before)).toBe(true);
  });

  it("names the saved steps when the window starts between checkpoints, and refuses other settings", async () => {
    await expect(interventionRun({ baseline, out: join(dir, "bad"), resumeStep: 4 })).rejects.toThrow(
      /no complete checkpoint step4 to resume from; pass one of its saved steps as the resume step \(0, 3, 6\)/,
    );
    expect(existsSync(join(dir, "bad", "intervention.json"))).toBe(false);
    await expect(interventionRun({ baseline, out: join(dir, "intervened"), resumeStep: 0 })).rejects.toThrow(
      /holds an intervention run with other settings/,
    );
    await expect(interventionRun({ baseline, out: join(dir, "x"), resumeStep: 6 })).rejects.toThrow(
      /resumeStep must be an integer in \[0, 6\)/,
    );
  });
});
