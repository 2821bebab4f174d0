import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EvalError } from "./eval-errors.js";

/**
 * A checkpoint directory's revision for the score cache: the sha256 of its weights, read from the
 * trainer's `manifest.json` when present, else computed over the `*.safetensors` files.
 */
export async function checkpointRevision(dir: string): Promise<string> {
  const manifestPath = join(dir, "manifest.json");
  if (existsSync(manifestPath)) {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
        files?: Record<string, { sha256?: string }>;
      };
      const weights = Object.entries(manifest.files ?? {})
        .filter(([file]) => file.startsWith("model") && file.endsWith(".safetensors"))
        .sort(([a], [b]) => a.localeCompare(b));
      if (weights.length > 0 && weights.every(([, entry]) => typeof entry.sha256 === "string")) {
        return `sha256:${weights.map(([, entry]) => entry.sha256).join("+")}`;
      }
    } catch {
      // fall through to hashing the files
    }
  }
  if (!existsSync(dir)) {
    throw new EvalError("CHECKPOINT", `${dir}: no such checkpoint directory`);
  }
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".safetensors") && file.startsWith("model"))
    .sort();
  if (files.length === 0) {
    throw new EvalError(
      "CHECKPOINT",
      `${dir}: no model*.safetensors; a checkpoint holds config.json and model.safetensors`,
    );
  }
  const hashes: string[] = [];
  for (const file of files) {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(join(dir, file))) {
      hash.update(chunk as Buffer);
    }
    hashes.push(hash.digest("hex"));
  }
  return `sha256:${hashes.join("+")}`;
}
