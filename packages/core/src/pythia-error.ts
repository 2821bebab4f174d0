const MARKER = Symbol.for("@pythia/core.error");

// Each package repeats the same nine lines for its base class (a `Symbol.for` marker, `name`, the
// marker field, `isInstance`). A class factory (`class X extends pythiaErrorClass<Code>({ name,
// marker }) {}`) was tried and not adopted: its declaration exposes this module's private MARKER
// (TS4020) unless typed by hand; `isInstance` either narrows to `PythiaError<Code>` instead of the
// package's class or needs a `this`-typed generic that breaks detached calls
// (`errors.filter(X.isInstance)`) and rejects subclasses' own `isInstance` (TS2417); and keeping the
// precise type means restating `isInstance` in every package, which was most of the repetition.

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
