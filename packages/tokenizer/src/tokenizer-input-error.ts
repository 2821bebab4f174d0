import { TokenizerError } from "./errors.js";

/** Thrown for bad user input (a malformed JSONL line, a missing field); carries the line number. */
export class TokenizerInputError extends TokenizerError {
  /** 1-based line number in the input, when the input is line oriented. */
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super("TOKENIZER_INPUT", line === undefined ? message : `line ${line}: ${message}`);
    this.name = "TokenizerInputError";
    this.line = line;
  }
}
