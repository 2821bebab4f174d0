import { hasMarker, PythiaError } from "@pythia/core";

const MARKER = Symbol.for("@pythia/analyses.error");

/** Stable machine-readable error codes thrown by `@pythia/analyses`. */
export type AnalysisErrorCode = "INPUT" | "RUN" | "DATA_MISSING" | "DATA_FORMAT" | "SCORES_FORMAT";

/** Base class of every error this package throws; `isInstance` works across duplicate installs. */
export class AnalysisError extends PythiaError<AnalysisErrorCode> {
  override name = "AnalysisError";
  readonly [MARKER] = true;

  /** True for errors thrown by any copy of `@pythia/analyses`. */
  static override isInstance(error: unknown): error is AnalysisError {
    return hasMarker(error, MARKER);
  }
}
