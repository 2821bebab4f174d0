import { hasMarker, PythiaError } from "@pythia/core";

const MARKER = Symbol.for("@pythia/trainer.error");

/** Stable codes of `TrainingError`. */
export type TrainingErrorCode =
  | "CONFIG"
  | "DATA"
  /** `resume` on data other than `run.json` records (without `allowDataChange`). */
  | "DATA_CHANGED"
  /** `resume` on a run directory whose `run.json` is missing while it holds checkpoints. */
  | "RUN_JSON"
  | "CHECKPOINT"
  | "DIVERGED"
  | "ABORTED"
  | "IO"
  | "GPU";

/** Everything `@pythia/trainer` throws; the message names the step, file or field and the fix. */
export class TrainingError extends PythiaError<TrainingErrorCode> {
  override name = "TrainingError";
  readonly [MARKER] = true;

  /** True for errors thrown by any copy of `@pythia/trainer`. */
  static override isInstance(error: unknown): error is TrainingError {
    return hasMarker(error, MARKER);
  }
}
