import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { sha256Hex } from "@pythia/core";
import { MANIFEST_JSON, parseCheckpointName, parseManifest, verifyCheckpoint } from "@pythia/core/run";
import { HubSyncError } from "./hub-errors.js";

/** One file of a local checkpoint. */
export interface LocalCheckpointFile {
  /** Path inside the checkpoint (and the revision), e.g. `model.safetensors`. */
  path: string;
  bytes: number;
  sha256: string;
}

/** A complete `step{N}` directory: its manifest's files plus `manifest.json` itself. */
export interface LocalCheckpoint {
  step: number;
  dir: string;
  /** Every file to upload, sorted by path; `manifest.json` included. */
  files: LocalCheckpointFile[];
}

/**
 * Reads a checkpoint directory written by `@pythia/trainer`. Every file of its manifest must exist with
 * the listed size and (unless `verify: false`) sha256, recomputed in one streaming pass per file.
 * Throws `HubSyncError("CHECKPOINT")` naming every file that fails.
 */
export async function readLocalCheckpoint(params: {
  dir: string;
  /** Recompute every file's sha256; `false` checks sizes only. @default true */
  verify?: boolean;
}): Promise<LocalCheckpoint> {
  const { dir } = params;
  const manifestPath = join(dir, MANIFEST_JSON);
  let text: string;
  try {
    text = readFileSync(manifestPath, "utf8");
  } catch {
    throw new HubSyncError(
      "CHECKPOINT",
      `${manifestPath} is missing: the checkpoint is incomplete (still being written, or not a @pythia/trainer checkpoint)`,
    );
  }
  const manifest = parseManifest(text, manifestPath);
  const nameStep = parseCheckpointName(basename(dir));
  if (nameStep !== null && nameStep !== manifest.step) {
    throw new HubSyncError(
      "CHECKPOINT",
      `${manifestPath} says step ${manifest.step} but the directory is ${basename(dir)}`,
    );
  }
  const check = await verifyCheckpoint({ dir, hashes: params.verify ?? true });
  if (!check.ok) {
    throw new HubSyncError(
      "CHECKPOINT",
      `${check.failures.map((failure) => failure.detail).join("; ")}; ${basename(dir)} is damaged, so nothing of it is uploaded: restore ${check.failures.length === 1 ? "that file" : "those files"} from a copy, or delete ${dir} and write it again (resume training from an earlier step)`,
    );
  }
  const files: LocalCheckpointFile[] = Object.entries(manifest.files).map(([path, entry]) => ({
    path,
    bytes: entry.bytes,
    sha256: entry.sha256,
  }));
  files.push({ path: MANIFEST_JSON, bytes: Buffer.byteLength(text), sha256: sha256Hex(text) });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { step: manifest.step, dir, files };
}

/** A `step{N}` entry of a run that `scanCheckpointDirs` leaves out, and why. */
export interface SkippedCheckpointDir {
  dir: string;
  /** Why it is left out, e.g. `no manifest.json (…)`. */
  reason: string;
}

/**
 * The `step{N}` directories of a run that hold a `manifest.json`, ascending by step, and the `step{N}`
 * entries without one (a checkpoint still being written, or whose write was interrupted: the trainer
 * writes `manifest.json` last), which callers must report rather than drop silently. Unlike
 * `completeCheckpointSteps`, a damaged checkpoint with a manifest is listed, so that pushing it fails.
 */
export function scanCheckpointDirs(runDir: string): { dirs: string[]; skipped: SkippedCheckpointDir[] } {
  if (!existsSync(runDir)) {
    throw new HubSyncError(
      "INPUT",
      `${runDir} does not exist; pass a run directory written by @pythia/trainer`,
    );
  }
  const steps = readdirSync(runDir)
    .map((entry) => ({ entry, step: parseCheckpointName(entry), dir: join(runDir, entry) }))
    .filter((item): item is { entry: string; step: number; dir: string } => item.step !== null)
    .sort((a, b) => a.step - b.step);
  const dirs: string[] = [];
  const skipped: SkippedCheckpointDir[] = [];
  for (const item of steps) {
    if (!statSync(item.dir).isDirectory()) {
      skipped.push({ dir: item.dir, reason: "not a directory" });
    } else if (!existsSync(join(item.dir, MANIFEST_JSON))) {
      skipped.push({
        dir: item.dir,
        reason: `no ${MANIFEST_JSON}: an incomplete checkpoint (still being written, or its write was interrupted), so it is not uploaded; finish or resume training to write it again, or delete it`,
      });
    } else {
      dirs.push(item.dir);
    }
  }
  return { dirs, skipped };
}

/** The `step{N}` directories of a run that hold a `manifest.json`, ascending by step (see `scanCheckpointDirs`). */
export function listCheckpointDirs(runDir: string): string[] {
  return scanCheckpointDirs(runDir).dirs;
}
