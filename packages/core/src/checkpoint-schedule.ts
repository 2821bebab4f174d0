/** Parameters of `checkpointSteps`. */
export interface CheckpointScheduleParams {
  /** Optimizer steps of the run (143000 for Pythia). */
  steps: number;
  /** Save every this many steps (`checkpoint-factor`, 1000 for Pythia). */
  every: number;
  /** Largest log-spaced early step (512 for Pythia). @default the largest power of two below `every`, at most 512 */
  logSpacedUpTo?: number;
}

/**
 * The steps after which a checkpoint is written, Pythia's way: step 0 (before any update), the powers
 * of two 1, 2, 4, … up to `logSpacedUpTo` (Pythia: 512), every `every` steps, and the last step.
 * `checkpointSteps({ steps: 143000, every: 1000 })` gives Pythia's 154 checkpoints. Shorter runs keep
 * the same shape: with `every: 50` the early steps are 1, 2, 4, …, 32 (powers of two below 50), then 50, 100, ….
 */
export function checkpointSteps(params: CheckpointScheduleParams): number[] {
  const { steps, every } = params;
  if (!Number.isInteger(steps) || steps < 0 || !Number.isInteger(every) || every <= 0) {
    throw new RangeError(
      `checkpointSteps: steps must be a non-negative integer and every a positive integer (got ${steps}, ${every})`,
    );
  }
  const logUpTo = params.logSpacedUpTo ?? Math.min(512, every - 1);
  const set = new Set<number>([0, steps]);
  for (let power = 1; power <= Math.min(logUpTo, steps); power *= 2) {
    set.add(power);
  }
  for (let step = every; step <= steps; step += every) {
    set.add(step);
  }
  return [...set].sort((a, b) => a - b);
}
