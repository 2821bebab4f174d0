import { hasMarker, PythiaError } from "@pythia/core";

const MARKER = Symbol.for("@pythia/torch-checkpoint.error");
const FORBIDDEN_MARKER = Symbol.for("@pythia/torch-checkpoint.forbidden-global");

/** Stable machine-readable error codes thrown by `@pythia/torch-checkpoint`. */
export type TorchCheckpointErrorCode =
  "ZIP_FORMAT" | "PICKLE_FORMAT" | "FORBIDDEN_GLOBAL" | "TORCH_FORMAT" | "INPUT" | "IO";

/**
 * Base class of every error this package throws. Messages read `${file}: ${where}: ${what}; ${fix}`.
 * `isInstance` works across duplicate installs.
 */
export class TorchCheckpointError extends PythiaError<TorchCheckpointErrorCode> {
  override name = "TorchCheckpointError";
  readonly [MARKER] = true;

  /** True for errors thrown by any copy of `@pythia/torch-checkpoint`. */
  static override isInstance(error: unknown): error is TorchCheckpointError {
    return hasMarker(error, MARKER);
  }
}

/**
 * A pickle names a global (a Python function or class) outside the allow-list. Nothing was called:
 * the pickle machine stops at the `GLOBAL` opcode, before any `REDUCE` could run it.
 */
export class ForbiddenGlobalError extends TorchCheckpointError {
  readonly [FORBIDDEN_MARKER] = true;
  /** The global's module as the pickle spells it (`posix`, `__builtin__`, `some.package`). */
  readonly module: string;
  /** The global's qualified name (`system`, `eval`, `Unknown`). */
  readonly globalName: string;

  constructor(params: { file: string; module: string; name: string; offset: number; fix: string }) {
    super(
      "FORBIDDEN_GLOBAL",
      `${params.file}: pickle offset ${params.offset}: refusing global ${params.module}.${params.name}, which is not on the allow-list of tensor rebuilders; nothing was executed; ${params.fix}`,
    );
    this.name = "ForbiddenGlobalError";
    this.module = params.module;
    this.globalName = params.name;
  }

  /** True for `ForbiddenGlobalError`s thrown by any copy of this package. */
  static override isInstance(error: unknown): error is ForbiddenGlobalError {
    return hasMarker(error, FORBIDDEN_MARKER);
  }
}

/** Builds a `TorchCheckpointError` with the `${file}: ${where}: ${what}; ${fix}` message shape. */
export function checkpointError(
  code: TorchCheckpointErrorCode,
  file: string,
  where: string,
  what: string,
  fix: string,
  cause?: unknown,
): TorchCheckpointError {
  return new TorchCheckpointError(
    code,
    `${file}: ${where}: ${what}; ${fix}`,
    cause === undefined ? undefined : { cause },
  );
}
