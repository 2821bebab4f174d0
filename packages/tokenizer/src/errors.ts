const MARKER = Symbol.for("@pythia/tokenizer.error");

/** Stable machine-readable error codes thrown by `@pythia/tokenizer`. */
export type TokenizerErrorCode =
  "TOKENIZER_FORMAT" | "TOKENIZER_UNSUPPORTED" | "TOKENIZER_FILE" | "TOKENIZER_INPUT";

/**
 * Base class of every error this package throws. `isInstance` works across duplicate copies of the
 * package in `node_modules` (it checks a `Symbol.for` marker, not the prototype chain).
 */
export class TokenizerError extends Error {
  readonly code: TokenizerErrorCode;
  readonly [MARKER] = true;

  constructor(code: TokenizerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TokenizerError";
    this.code = code;
  }

  /** True for errors thrown by any copy of `@pythia/tokenizer`. */
  static isInstance(error: unknown): error is TokenizerError {
    return typeof error === "object" && error !== null && MARKER in error;
  }
}

/** A `tokenizer.json` is malformed or uses a component this package does not implement. */
export class TokenizerFormatError extends TokenizerError {
  /** Where the tokenizer came from (a path, a URL, or `"<object>"`). */
  readonly source: string;
  /** The JSON path of the offending field, e.g. `pre_tokenizer.type`. */
  readonly field: string;

  constructor(params: { source: string; field: string; message: string; unsupported?: boolean }) {
    super(
      params.unsupported ? "TOKENIZER_UNSUPPORTED" : "TOKENIZER_FORMAT",
      `${params.source}: field "${params.field}": ${params.message}`,
    );
    this.name = "TokenizerFormatError";
    this.source = params.source;
    this.field = params.field;
  }
}
