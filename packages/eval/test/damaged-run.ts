import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointDir, writeManifest } from "@pythia/core/run";
import { GPTNeoXModel, parseConfig, saveCheckpoint } from "@pythia/model";

/**
 * A run folder holding a tiny model's checkpoint at each of `steps` (with manifests), seeded by step.
 * Needs `initCompute` first.
 */
export async function tinyRun(params: { steps: number[]; maxPositionEmbeddings?: number }): Promise<string> {
  const runDir = mkdtempSync(join(tmpdir(), "pythia-eval-run-"));
  const config = parseConfig({
    vocabSize: 64,
    hiddenSize: 8,
    numLayers: 1,
    numHeads: 2,
    intermediateSize: 16,
    maxPositionEmbeddings: params.maxPositionEmbeddings ?? 32,
    rotaryPct: 0.5,
  });
  for (const step of params.steps) {
    const model = GPTNeoXModel.initialize({ config, seed: step });
    await saveCheckpoint({ model, dir: checkpointDir(runDir, step), includeTokenizer: false });
    model.dispose();
    await writeManifest({ dir: checkpointDir(runDir, step), step });
  }
  return runDir;
}

/**
 * `tinyRun` where `step{damaged}/model.safetensors` has one bit flipped after its manifest was written.
 */
export async function runWithDamagedCheckpoint(params: {
  steps: number[];
  damaged: number;
}): Promise<string> {
  const runDir = await tinyRun({ steps: params.steps });
  const weights = join(checkpointDir(runDir, params.damaged), "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[bytes.length - 8] = (bytes[bytes.length - 8] as number) ^ 0x01;
  writeFileSync(weights, bytes);
  return runDir;
}
