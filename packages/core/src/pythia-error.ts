const MARKER = Symbol.for("@pythia/core.error");

/**
 * Base class of the errors of every `@pythia/*` package (the tokenizer, which has no dependencies,
 * mirrors it). Subclasses set `name` and their own marker for `isInstance`. A stable `code` says what failed; the message says where (file, field, step) and what to
 * do. `isInstance` checks a `Symbol.for` marker, so it works across duplicate installs.
 */
export class PythiaError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly [MARKER] = true;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PythiaError";
    this.code = code;
  }

  /** True for an error thrown by any `@pythia/*` package. */
  static isInstance(error: unknown): error is PythiaError {
    return hasMarker(error, MARKER);
  }
}

/** True when `error` is an object carrying `marker` (how subclasses implement their own `isInstance`). */
export function hasMarker(error: unknown, marker: symbol): boolean {
  return typeof error === "object" && error !== null && marker in error;
}
