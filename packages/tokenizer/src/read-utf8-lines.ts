import type { Readable } from "node:stream";
import { TokenizerInputError } from "./tokenizer-input-error.js";
import { Utf8Validator, type InvalidUtf8 } from "./utf8-validator.js";

/** How text inputs are read, shared by `pythia-tokenize` and `pythia-data preprocess` (ADR 0018). */
export interface Utf8InputOptions {
  /** Names the input in warnings and errors. @default "<stdin>" */
  file?: string;
  /** Refuse bytes that are not UTF-8 instead of replacing them by U+FFFD. @default false */
  strict?: boolean;
  /** Called once per input that held invalid UTF-8 (not with `strict`, which throws instead). */
  onInvalidUtf8?: (finding: InvalidUtf8) => void;
}

/** The one-line message for input that is not UTF-8. */
export function invalidUtf8Message(finding: InvalidUtf8): string {
  return `${finding.file}: invalid UTF-8 at byte ${finding.byteOffset} (${finding.count} invalid sequence${finding.count === 1 ? "" : "s"})`;
}

/**
 * The warning line (without newline) a command line prints for input that was not UTF-8 and was
 * decoded with U+FFFD: `warning: FILE: invalid UTF-8 at byte N (…); replaced by U+FFFD (…)`,
 * the same in `pythia-tokenize` and `pythia-data preprocess` (ADR 0018, docs/cli-conventions.md).
 */
export function invalidUtf8Warning(finding: InvalidUtf8): string {
  return `warning: ${invalidUtf8Message(finding)}; replaced by U+FFFD (pass --strict to refuse such input)`;
}

/**
 * Passes byte chunks through, checking they are UTF-8: on the first invalid byte throws
 * `TokenizerInputError` under `strict`; otherwise reports the input once at its end.
 */
export async function* checkUtf8(
  chunks: AsyncIterable<Uint8Array | string>,
  options: Utf8InputOptions = {},
): AsyncGenerator<Uint8Array, void> {
  const file = options.file ?? "<stdin>";
  const validator = new Utf8Validator();
  const fail = () => {
    const finding = validator.result(file);
    if (finding !== null) {
      throw new TokenizerInputError(
        `${finding.file}: invalid UTF-8 at byte ${finding.byteOffset}; the input must be UTF-8 (convert it, e.g. with iconv, or drop --strict to replace such bytes by U+FFFD)`,
      );
    }
  };
  for await (const chunk of chunks) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    validator.push(bytes);
    if (options.strict === true) {
      fail();
    }
    yield bytes;
  }
  validator.end();
  if (options.strict === true) {
    fail();
  }
  const finding = validator.result(file);
  if (finding !== null) {
    options.onInvalidUtf8?.(finding);
  }
}

/**
 * Splits UTF-8 byte chunks into lines (without `\n` / `\r\n`), dropping a leading byte-order mark;
 * invalid bytes decode to U+FFFD.
 */
export async function* utf8Lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string, void> {
  const decoder = new TextDecoder("utf-8"); // ignoreBOM: false, so a leading BOM is dropped
  let rest = "";
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let newline = rest.indexOf("\n"); newline !== -1; newline = rest.indexOf("\n", start)) {
      yield rest.slice(start, newline > start && rest.charCodeAt(newline - 1) === 13 ? newline - 1 : newline);
      start = newline + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest.length > 0) {
    yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
  }
}

/** The lines of a UTF-8 stream, checked by `checkUtf8` (BOM dropped). */
export function readUtf8Lines(
  input: Readable | AsyncIterable<Uint8Array | string>,
  options: Utf8InputOptions = {},
): AsyncGenerator<string, void> {
  return utf8Lines(checkUtf8(input as AsyncIterable<Uint8Array | string>, options));
}
