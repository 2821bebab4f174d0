import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { revisionStep } from "./checkpoint-schedule.js";
import { sha256File } from "./file-hash.js";
import { HubSyncError } from "./hub-errors.js";

/** `manifest.json` of a `@pythia/trainer` checkpoint, as written (wire format). */
export interface CheckpointManifestFormat {
  step: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

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

/** Reads `manifest.json` as a domain value; throws with the file and the fix when it is malformed. */
export function parseCheckpointManifest(text: string, where: string): CheckpointManifestFormat {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HubSyncError("CHECKPOINT", `${where}: not JSON (${(error as Error).message})`);
  }
  const manifest = value as Partial<CheckpointManifestFormat> | null;
  if (
    manifest === null ||
    typeof manifest !== "object" ||
    !Number.isInteger(manifest.step) ||
    typeof manifest.files !== "object" ||
    manifest.files === null
  ) {
    throw new HubSyncError(
      "CHECKPOINT",
      `${where}: expected {"step": N, "files": {name: {"bytes", "sha256"}}} as written by @pythia/trainer`,
    );
  }
  for (const [name, entry] of Object.entries(manifest.files)) {
    if (typeof entry?.bytes !== "number" || !/^[0-9a-f]{64}$/.test(String(entry?.sha256))) {
      throw new HubSyncError("CHECKPOINT", `${where}: entry "${name}" needs a byte count and a hex sha256`);
    }
  }
  return manifest as CheckpointManifestFormat;
}

/**
 * Reads a checkpoint directory written by `@pythia/trainer`. Every file of its manifest must exist with
 * the listed size; `verify: true` also recomputes every sha256. Throws `HubSyncError("CHECKPOINT")`.
 */
export async function readLocalCheckpoint(params: {
  dir: string;
  verify?: boolean;
}): Promise<LocalCheckpoint> {
  const { dir } = params;
  const manifestPath = join(dir, "manifest.json");
  let text: string;
  try {
    text = readFileSync(manifestPath, "utf8");
  } catch {
    throw new HubSyncError(
      "CHECKPOINT",
      `${manifestPath} is missing: the checkpoint is incomplete (still being written, or not a @pythia/trainer checkpoint)`,
    );
  }
  const manifest = parseCheckpointManifest(text, manifestPath);
  const nameStep = revisionStep(basename(dir));
  if (nameStep !== null && nameStep !== manifest.step) {
    throw new HubSyncError(
      "CHECKPOINT",
      `${manifestPath} says step ${manifest.step} but the directory is ${basename(dir)}`,
    );
  }
  const files: LocalCheckpointFile[] = [];
  for (const [path, entry] of Object.entries(manifest.files)) {
    const full = join(dir, path);
    const size = existsSync(full) ? statSync(full).size : -1;
    if (size !== entry.bytes) {
      throw new HubSyncError(
        "CHECKPOINT",
        `${full}: ${size < 0 ? "missing" : `${size} bytes`}, the manifest lists ${entry.bytes} bytes; the checkpoint is damaged`,
      );
    }
    if (params.verify && (await sha256File(full)) !== entry.sha256) {
      throw new HubSyncError(
        "CHECKPOINT",
        `${full}: sha256 differs from ${manifestPath}; the checkpoint is damaged`,
      );
    }
    files.push({ path, bytes: entry.bytes, sha256: entry.sha256 });
  }
  files.push({
    path: "manifest.json",
    bytes: Buffer.byteLength(text),
    sha256: await sha256File(manifestPath),
  });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { step: manifest.step, dir, files };
}

/** The `step{N}` directories of a run that hold a `manifest.json`, ascending by step. */
export function listCheckpointDirs(runDir: string): string[] {
  if (!existsSync(runDir)) {
    throw new HubSyncError(
      "INPUT",
      `${runDir} does not exist; pass a run directory written by @pythia/trainer`,
    );
  }
  return readdirSync(runDir)
    .map((entry) => ({ entry, step: revisionStep(entry) }))
    .filter((item): item is { entry: string; step: number } => item.step !== null)
    .filter((item) => existsSync(join(runDir, item.entry, "manifest.json")))
    .sort((a, b) => a.step - b.step)
    .map((item) => join(runDir, item.entry));
}
