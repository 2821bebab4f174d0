import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "@pythia/core";
import { readManifest, type CheckpointManifest } from "@pythia/core/run";
import { EvalError } from "./eval-errors.js";

/**
 * A checkpoint directory's revision for the score cache: the sha256 of its weights, read from the
 * trainer's `manifest.json` when present, else computed over the `*.safetensors` files.
 */
export async function checkpointRevision(dir: string): Promise<string> {
  let manifest: CheckpointManifest | null = null;
  try {
    manifest = readManifest(dir);
  } catch {
    // A malformed manifest: hash the files instead.
  }
  const listed = Object.entries(manifest?.files ?? {})
    .filter(([file]) => isWeights(file))
    .sort(([a], [b]) => a.localeCompare(b));
  if (listed.length > 0) {
    return `sha256:${listed.map(([, entry]) => entry.sha256).join("+")}`;
  }
  if (!existsSync(dir)) {
    throw new EvalError("CHECKPOINT", `${dir}: no such checkpoint directory`);
  }
  const files = readdirSync(dir).filter(isWeights).sort();
  if (files.length === 0) {
    throw new EvalError(
      "CHECKPOINT",
      `${dir}: no model*.safetensors; a checkpoint holds config.json and model.safetensors`,
    );
  }
  const hashes: string[] = [];
  for (const file of files) {
    hashes.push(await sha256File(join(dir, file)));
  }
  return `sha256:${hashes.join("+")}`;
}

function isWeights(file: string): boolean {
  return file.startsWith("model") && file.endsWith(".safetensors");
}
