import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../files.js";
import { sha256File } from "../hash.js";
import { RunError } from "./run-errors.js";

/** File name of a checkpoint's manifest, written last. */
export const MANIFEST_JSON = "manifest.json";

/** `manifest.json`: every file of a checkpoint with its size and sha256. */
export const CheckpointManifestSchema = z.object({
  step: z.number().int().nonnegative(),
  files: z.record(
    z.string(),
    z.object({
      bytes: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits"),
    }),
  ),
});

/** `manifest.json` of a `step{N}/` checkpoint. */
export type CheckpointManifest = z.infer<typeof CheckpointManifestSchema>;

/** Parameters of `writeManifest`. */
export interface WriteManifestParams {
  /** The checkpoint folder, holding every other file already. */
  dir: string;
  step: number;
}

/**
 * Hashes every file in `dir` (sorted by name; `manifest.json` itself excluded) and writes
 * `manifest.json` atomically. Returns the manifest and the bytes it lists.
 */
export async function writeManifest(
  params: WriteManifestParams,
): Promise<{ manifest: CheckpointManifest; bytes: number }> {
  const manifest: CheckpointManifest = { step: params.step, files: {} };
  let bytes = 0;
  for (const file of readdirSync(params.dir).sort()) {
    if (file === MANIFEST_JSON) {
      continue;
    }
    const path = join(params.dir, file);
    const size = statSync(path).size;
    manifest.files[file] = { bytes: size, sha256: await sha256File(path) };
    bytes += size;
  }
  writeFileAtomic(join(params.dir, MANIFEST_JSON), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, bytes };
}

/**
 * Parses manifest text; `where` names it in errors.
 * @throws RunError (`MANIFEST`) when it is not JSON or not a manifest.
 */
export function parseManifest(text: string, where: string): CheckpointManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunError(
      "MANIFEST",
      `${where}: not JSON (${(error as Error).message}); the checkpoint is damaged`,
    );
  }
  const parsed = CheckpointManifestSchema.safeParse(value);
  if (!parsed.success) {
    throw new RunError(
      "MANIFEST",
      `${where}: expected {"step": N, "files": {name: {"bytes", "sha256"}}} as @pythia/trainer writes it (${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")})`,
    );
  }
  return parsed.data;
}

/**
 * The manifest of checkpoint folder `dir`, or `null` when it has none (still being written, or not a
 * training checkpoint).
 * @throws RunError (`MANIFEST`) when it is malformed.
 */
export function readManifest(dir: string): CheckpointManifest | null {
  const path = join(dir, MANIFEST_JSON);
  if (!existsSync(path)) {
    return null;
  }
  return parseManifest(readFileSync(path, "utf8"), path);
}

/** A file of a checkpoint that does not match its manifest. */
export interface ManifestFailure {
  /** Path inside the checkpoint (`model.safetensors`), or `manifest.json`. */
  file: string;
  problem: "missing" | "size" | "sha256" | "manifest";
  /** What the manifest lists and what is there. */
  detail: string;
}

/** What `verifyCheckpoint` found. */
export interface CheckpointVerification {
  ok: boolean;
  /** The manifest, or `null` when it is missing or malformed. */
  manifest: CheckpointManifest | null;
  /** Every file that failed (empty when `ok`). */
  failures: ManifestFailure[];
}

/** Parameters of `verifyCheckpoint`. */
export interface VerifyCheckpointParams {
  /** The checkpoint folder (`<run>/step{N}`). */
  dir: string;
  /** Also recompute every sha256 (reads every byte); otherwise sizes only. @default true */
  hashes?: boolean;
}

/**
 * Checks a checkpoint folder against its manifest: every listed file exists with its size and (with
 * `hashes`) its sha256. Never throws for a damaged checkpoint: returns which files failed.
 */
export async function verifyCheckpoint(params: VerifyCheckpointParams): Promise<CheckpointVerification> {
  let manifest: CheckpointManifest | null;
  try {
    manifest = readManifest(params.dir);
  } catch (error) {
    if (!RunError.isInstance(error)) {
      throw error;
    }
    return {
      ok: false,
      manifest: null,
      failures: [{ file: MANIFEST_JSON, problem: "manifest", detail: error.message }],
    };
  }
  if (manifest === null) {
    return {
      ok: false,
      manifest: null,
      failures: [
        { file: MANIFEST_JSON, problem: "missing", detail: `${join(params.dir, MANIFEST_JSON)} is missing` },
      ],
    };
  }
  const failures: ManifestFailure[] = [];
  for (const [file, entry] of Object.entries(manifest.files)) {
    const path = join(params.dir, file);
    const size = statSync(path, { throwIfNoEntry: false })?.size;
    if (size === undefined) {
      failures.push({ file, problem: "missing", detail: `${path} is missing` });
    } else if (size !== entry.bytes) {
      failures.push({
        file,
        problem: "size",
        detail: `${path}: ${size} bytes, the manifest lists ${entry.bytes}`,
      });
    } else if ((params.hashes ?? true) && (await sha256File(path)) !== entry.sha256) {
      failures.push({
        file,
        problem: "sha256",
        detail: `${path}: sha256 differs from the manifest's ${entry.sha256}`,
      });
    }
  }
  return { ok: failures.length === 0, manifest, failures };
}
