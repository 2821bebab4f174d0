import { join } from "node:path";

const CHECKPOINT_NAME = /^step(\d+)$/;

/** `step{N}`: the directory of the checkpoint after optimizer step N (also its Hub revision name). */
export function checkpointName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new RangeError(`checkpointName: step must be a non-negative integer, got ${step}`);
  }
  return `step${step}`;
}

/** The N of `step{N}`, or `null` for any other name (`step01`, `.step5.tmp-1-ab`, `final`). */
export function parseCheckpointName(name: string): number | null {
  const match = CHECKPOINT_NAME.exec(name);
  if (match === null) {
    return null;
  }
  const step = Number(match[1]);
  return checkpointName(step) === name ? step : null;
}

/** `<runDir>/step{N}`. */
export function checkpointDir(runDir: string, step: number): string {
  return join(runDir, checkpointName(step));
}
