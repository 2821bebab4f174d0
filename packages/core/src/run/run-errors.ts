import { PythiaError } from "../pythia-error.js";

const MARKER = Symbol.for("@pythia/core.run-error");

/** What went wrong with a run directory. */
export type RunErrorCode =
  /** `run.json` is missing, not JSON, or does not match the format. */
  | "RUN_JSON"
  /** A checkpoint's `manifest.json` is not JSON or does not match the format. */
  | "MANIFEST"
  /** A `metrics.jsonl` line (other than a torn last one) is not a metrics record. */
  | "METRICS"
  /** A directory already holds checkpoints, or a path does not exist. */
  | "RUN_DIR"
  /** Another live process holds the run's `run.lock`. */
  | "RUN_LOCKED";

/** A run directory (`run.json`, `metrics.jsonl`, `step{N}/manifest.json`) that cannot be read or used. */
export class RunError extends PythiaError<RunErrorCode> {
  readonly [MARKER] = true;

  constructor(code: RunErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "RunError";
  }

  /** True for a `RunError` from any copy of `@pythia/core`. */
  static override isInstance(error: unknown): error is RunError {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}
