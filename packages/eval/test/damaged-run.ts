import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointDir, writeManifest } from "@pythia/core/run";
import { GPTNeoXModel, parseConfig, saveCheckpoint } from "@pythia/model";

/**
 * A run folder holding a tiny model's checkpoint at each of `steps` (with manifests), where
 * `step{damaged}/model.safetensors` has one bit flipped after its manifest was written.
 * Needs `initCompute` first.
 */
export async function runWithDamagedCheckpoint(params: {
  steps: number[];
  damaged: number;
}): Promise<string> {
  const runDir = mkdtempSync(join(tmpdir(), "pythia-eval-damaged-"));
  const config = parseConfig({
    vocabSize: 64,
    hiddenSize: 8,
    numLayers: 1,
    numHeads: 2,
    intermediateSize: 16,
    maxPositionEmbeddings: 32,
    rotaryPct: 0.5,
  });
  for (const step of params.steps) {
    const model = GPTNeoXModel.initialize({ config, seed: step });
    await saveCheckpoint({ model, dir: checkpointDir(runDir, step), includeTokenizer: false });
    model.dispose();
    await writeManifest({ dir: checkpointDir(runDir, step), step });
  }
  const weights = join(checkpointDir(runDir, params.damaged), "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[bytes.length - 8] = (bytes[bytes.length - 8] as number) ^ 0x01;
  writeFileSync(weights, bytes);
  return runDir;
}
