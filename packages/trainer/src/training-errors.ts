const MARKER = Symbol.for("@pythia/trainer.error");

/** Stable codes of `TrainingError`. */
export type TrainingErrorCode = "CONFIG" | "DATA" | "CHECKPOINT" | "DIVERGED" | "IO";

/** Everything `@pythia/trainer` throws; the message names the step, file or field and the fix. */
export class TrainingError extends Error {
  readonly code: TrainingErrorCode;
  readonly [MARKER] = true;

  constructor(code: TrainingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TrainingError";
    this.code = code;
  }

  /** True for errors thrown by any copy of `@pythia/trainer`. */
  static isInstance(error: unknown): error is TrainingError {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}
