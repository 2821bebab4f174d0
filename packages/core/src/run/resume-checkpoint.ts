import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { renameDurable } from "../rename-durable.js";
import { checkpointDir, checkpointName, parseCheckpointName } from "./checkpoint-name.js";
import { verifyCheckpoint, type ManifestFailure } from "./manifest.js";

/** A `step{N}/` folder that does not match its manifest. */
export interface RejectedCheckpoint {
  step: number;
  /** The folder, `<run>/step{N}`. */
  dir: string;
  /** Every file that failed (`verifyCheckpoint`). */
  failures: ManifestFailure[];
}

/** What `findResumeCheckpoint` found. */
export interface ResumeCheckpoint {
  /** The newest checkpoint whose every file matches its manifest's sha256, or `null` when none does. */
  step: number | null;
  /** The `step{N}/` folders newer than `step` that failed, newest first (every one when `step` is `null`). */
  rejected: RejectedCheckpoint[];
}

/** Parameters of `findResumeCheckpoint`. */
export interface FindResumeCheckpointParams {
  /** The run directory. */
  dir: string;
}

/**
 * The checkpoint a resume continues from: the `step{N}/` folders, newest first, are checked against
 * their manifests (sizes and sha256: one streaming pass over each) until one matches and names step N.
 * Reads only; a run directory without `step{N}/` folders gives `{ step: null, rejected: [] }`.
 */
export async function findResumeCheckpoint(params: FindResumeCheckpointParams): Promise<ResumeCheckpoint> {
  const steps = existsSync(params.dir)
    ? readdirSync(params.dir)
        .map(parseCheckpointName)
        .filter((step): step is number => step !== null)
        .sort((a, b) => b - a)
    : [];
  const rejected: RejectedCheckpoint[] = [];
  for (const step of steps) {
    const dir = checkpointDir(params.dir, step);
    const check = await verifyCheckpoint({ dir, hashes: true });
    if (check.ok && check.manifest?.step === step) {
      return { step, rejected };
    }
    const failures =
      check.ok && check.manifest !== null
        ? [
            {
              file: "manifest.json",
              problem: "manifest" as const,
              detail: `${join(dir, "manifest.json")} names step ${check.manifest.step}, not ${step}`,
            },
          ]
        : check.failures;
    rejected.push({ step, dir, failures });
  }
  return { step: null, rejected };
}

/** Parameters of `setAsideCheckpoint`. */
export interface SetAsideCheckpointParams {
  /** The run directory. */
  dir: string;
  step: number;
}

/**
 * Renames a damaged `<run>/step{N}/` to `<run>/step{N}.corrupt` (`step{N}.corrupt-2`, … when taken), a
 * name no reader takes for a checkpoint and no clean-up removes, so nothing is deleted; returns the
 * new path.
 */
export function setAsideCheckpoint(params: SetAsideCheckpointParams): string {
  const base = join(params.dir, `${checkpointName(params.step)}.corrupt`);
  let target = base;
  for (let n = 2; existsSync(target); n++) {
    target = `${base}-${n}`;
  }
  renameDurable(checkpointDir(params.dir, params.step), target);
  return target;
}
