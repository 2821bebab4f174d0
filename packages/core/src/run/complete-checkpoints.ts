import { existsSync, readdirSync } from "node:fs";
import { checkpointDir, checkpointName, parseCheckpointName } from "./checkpoint-name.js";
import { verifyCheckpoint } from "./manifest.js";
import { RunError } from "./run-errors.js";

/** Parameters of `completeCheckpointSteps`. */
export interface CompleteCheckpointsParams {
  /** The run directory. */
  dir: string;
  /** Also check every file's sha256 (reads every byte); otherwise sizes only. @default false */
  verify?: boolean;
}

/**
 * The steps of the complete checkpoints of a run, ascending. A `step{N}/` folder counts when its
 * `manifest.json` is readable, names step N, and lists files that exist with the listed sizes (and,
 * with `verify`, sha256). A missing run directory has none.
 */
export async function completeCheckpointSteps(params: CompleteCheckpointsParams): Promise<number[]> {
  if (!existsSync(params.dir)) {
    return [];
  }
  const steps = readdirSync(params.dir)
    .map(parseCheckpointName)
    .filter((step): step is number => step !== null)
    .sort((a, b) => a - b);
  const complete: number[] = [];
  for (const step of steps) {
    const check = await verifyCheckpoint({
      dir: checkpointDir(params.dir, step),
      hashes: params.verify ?? false,
    });
    if (check.ok && check.manifest?.step === step) {
      complete.push(step);
    }
  }
  return complete;
}

/** Parameters of `assertNoCheckpoints`. */
export interface AssertNoCheckpointsParams {
  /** The output directory of a new run. */
  dir: string;
  /** How to continue instead, for the message. @default "pass resume to continue it, or choose a new output directory" */
  hint?: string;
}

/**
 * Refuses to start a new run in a directory that already holds complete checkpoints.
 * @throws RunError (`RUN_DIR`) naming the newest checkpoint.
 */
export async function assertNoCheckpoints(params: AssertNoCheckpointsParams): Promise<void> {
  const newest = (await completeCheckpointSteps({ dir: params.dir })).at(-1);
  if (newest !== undefined) {
    throw new RunError(
      "RUN_DIR",
      `${params.dir} already holds checkpoints (newest: ${checkpointName(newest)}); ${params.hint ?? "pass resume to continue it, or choose a new output directory"}`,
    );
  }
}
