import { stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { sha256File } from "@pythia/core";
import { MANIFEST_JSON, readManifest, RunError, type CheckpointManifest } from "@pythia/core/run";
import { ModelError } from "./model-errors.js";

const FIX = "the file is damaged: download or copy the checkpoint again, or use an earlier step";

/**
 * A check of single files of checkpoint folder `dir` against its `manifest.json` (size, then sha256 in
 * one streaming pass), for each file just before it is read; `null` when `dir` has no manifest (a
 * Hugging Face snapshot, say). Each file is hashed once however often it is checked.
 * @throws ModelError (`CHECKPOINT_CORRUPT`) when the manifest is malformed; the check throws it for a
 * file that is unlisted, missing, or of another size or sha256, naming the file and the fix.
 */
export function manifestFileCheck(dir: string): ((path: string) => Promise<void>) | null {
  let manifest: CheckpointManifest | null;
  try {
    manifest = readManifest(dir);
  } catch (error) {
    if (RunError.isInstance(error)) {
      throw new ModelError(
        "CHECKPOINT_CORRUPT",
        `${error.message}; copy the checkpoint again or use an earlier step`,
        { cause: error },
      );
    }
    throw error;
  }
  if (manifest === null) {
    return null;
  }
  const files = manifest.files;
  const manifestPath = join(dir, MANIFEST_JSON);
  const checked = new Map<string, Promise<void>>();
  const check = async (path: string): Promise<void> => {
    const name = relative(dir, path).split("\\").join("/");
    const entry = Object.hasOwn(files, name) ? files[name] : undefined;
    if (entry === undefined) {
      throw new ModelError(
        "CHECKPOINT_CORRUPT",
        `${path}: not listed in ${manifestPath}, so it cannot be verified; the checkpoint was changed after it was written: copy it again, or use an earlier step`,
      );
    }
    const size = (await stat(path).catch(() => null))?.size;
    if (size === undefined) {
      throw new ModelError("CHECKPOINT_CORRUPT", `${path}: missing, but ${manifestPath} lists it; ${FIX}`);
    }
    if (size !== entry.bytes) {
      throw new ModelError(
        "CHECKPOINT_CORRUPT",
        `${path}: ${size} bytes, but ${manifestPath} lists ${entry.bytes}; ${FIX}`,
      );
    }
    const sha256 = await sha256File(path);
    if (sha256 !== entry.sha256) {
      throw new ModelError(
        "CHECKPOINT_CORRUPT",
        `${path}: sha256 ${sha256.slice(0, 12)}… differs from ${entry.sha256.slice(0, 12)}… in ${manifestPath}; ${FIX}`,
      );
    }
  };
  return (path) => {
    let pending = checked.get(path);
    if (pending === undefined) {
      pending = check(path);
      checked.set(path, pending);
    }
    return pending;
  };
}
