/** Pythia's checkpoint schedule (shared with `@pythia/trainer` through `@pythia/core`, which loads no TensorFlow.js). */
export {
  checkpointSteps as scheduleSteps,
  type CheckpointScheduleParams as CheckpointSchedule,
} from "@pythia/core";

/** `step{N}`: the Hub revision (branch) of the checkpoint after step N. */
export function revisionName(step: number): string {
  return `step${step}`;
}

/** The N of `step{N}`, or null for any other name. */
export function revisionStep(name: string): number | null {
  const match = /^step(\d+)$/.exec(name);
  return match ? Number(match[1]) : null;
}
