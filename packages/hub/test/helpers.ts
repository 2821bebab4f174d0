import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkpointDir, writeManifest, writeRunJson } from "@pythia/core/run";

export const TOKEN = "hf_test_token";

/** Absolute path inside packages/hub. */
export function packagePath(relative: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", relative);
}

function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** Writes `dir/step{N}/` like `@pythia/trainer` does: the files, then `manifest.json` with sizes and sha256. */
export async function writeStep(dir: string, step: number, weightsSeed = step): Promise<string> {
  const stepDir = checkpointDir(dir, step);
  mkdirSync(stepDir, { recursive: true });
  const files: Record<string, Buffer> = {
    "config.json": Buffer.from(
      `${JSON.stringify({ architectures: ["GPTNeoXForCausalLM"], hidden_size: 16, num_hidden_layers: 2 }, null, 2)}\n`,
    ),
    "model.safetensors": bytes(1000 + weightsSeed, 48_000),
    "optimizer.safetensors": bytes(2000 + step, 20_000),
    "tokenizer.json": Buffer.from(`{"model": {"type": "BPE"}}\n`),
    "trainer_state.json": Buffer.from(`${JSON.stringify({ step, nextSample: step * 4 })}\n`),
  };
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(stepDir, name), content);
  }
  await writeManifest({ dir: stepDir, step });
  return stepDir;
}

/**
 * A 3-checkpoint run (schedule steps 2, every 2 → step0, step1, step2) with `run.json`. As in a real
 * GPT-NeoX run, step1's weights equal step0's (the learning rate of the first update is 0).
 */
export async function fakeRun(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), "pythia-hub-run-")), "run");
  mkdirSync(dir, { recursive: true });
  writeRunJson({
    dir,
    config: {
      model: {},
      steps: 2,
      batchSize: 4,
      microBatchSize: 4,
      seqLength: 8,
      checkpointEvery: 2,
      seed: 7,
    },
    data: { kind: "index-map", prefix: join(dir, "data", "tiny_text_document"), documents: 40 },
  });
  await writeStep(dir, 0, 0);
  await writeStep(dir, 1, 0);
  await writeStep(dir, 2, 2);
  return dir;
}

/** Every file of a directory (relative path → bytes), following symlinks. */
export function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    if (entry.isFile() || entry.isSymbolicLink()) {
      out.set(full.slice(dir.length + 1), readFileSync(full));
    }
  }
  return out;
}

let counter = 0;
/** A fresh repository name per test. */
export function repoName(): string {
  counter++;
  return `pythia-test/run-${process.pid}-${counter}`;
}
