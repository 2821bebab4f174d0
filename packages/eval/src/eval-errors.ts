import { hasMarker, PythiaError } from "@pythia/core";

const MARKER = Symbol.for("@pythia/eval.error");

/** Stable machine-readable error codes thrown by `@pythia/eval`. */
export type EvalErrorCode =
  "UNKNOWN_TASK" | "DATA_MISSING" | "DATA_FORMAT" | "FEWSHOT" | "REQUEST" | "RESULTS_FORMAT" | "CHECKPOINT";

/** Base class of every error this package throws; `isInstance` works across duplicate installs. */
export class EvalError extends PythiaError<EvalErrorCode> {
  override name = "EvalError";
  readonly [MARKER] = true;

  /** True for errors thrown by any copy of `@pythia/eval`. */
  static override isInstance(error: unknown): error is EvalError {
    return hasMarker(error, MARKER);
  }
}
