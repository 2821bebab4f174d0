/**
 * Node-only helpers: load a `tokenizer.json` from disk and read JSONL streams. The main entry
 * (`@pythia/tokenizer`) stays free of `node:` imports so it runs in browsers.
 */
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { TokenizerError } from "./errors.js";
import { Tokenizer } from "./tokenizer.js";
import { readUtf8Lines, type Utf8InputOptions } from "./read-utf8-lines.js";
import { TokenizerInputError } from "./tokenizer-input-error.js";

export * from "./index.js";
export * from "./tokenizer-input-error.js";
export * from "./utf8-validator.js";
export * from "./read-utf8-lines.js";

/** Absolute path of the GPT-NeoX-20B `tokenizer.json` shipped in this package (to copy into checkpoints). */
export function bundledTokenizerPath(): string {
  return fileURLToPath(new URL("../data/gpt-neox-20b/tokenizer.json", import.meta.url));
}

/**
 * Loads a Hugging Face `tokenizer.json` from disk.
 * @throws TokenizerError (`TOKENIZER_FILE`) when the file is missing or not JSON, naming the path.
 * @throws TokenizerFormatError when the JSON is not a supported byte-level BPE tokenizer.
 */
export async function loadTokenizerFile(path: string): Promise<Tokenizer> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new TokenizerError(
      "TOKENIZER_FILE",
      `cannot read tokenizer file ${path} (${reason}); pass the path of a Hugging Face tokenizer.json`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(
      "TOKENIZER_FILE",
      `${path} is not valid JSON (${(error as Error).message}); expected a Hugging Face tokenizer.json`,
      { cause: error },
    );
  }
  return Tokenizer.fromJSON(json, { source: path });
}

/** One parsed line of a JSONL stream. */
export interface JsonlLine {
  /** 1-based line number. */
  line: number;
  value: unknown;
}

/**
 * Parses a JSONL stream line by line (constant memory). Blank lines are skipped and a leading
 * byte-order mark is dropped, as `pythia-data preprocess` does (ADR 0018); bytes that are not UTF-8
 * are reported through `options` (or refused under `strict`).
 * @throws TokenizerInputError with the line number on an invalid line.
 */
export async function* readJsonl(
  input: Readable,
  options: Utf8InputOptions = {},
): AsyncGenerator<JsonlLine, void> {
  let line = 0;
  for await (const text of readUtf8Lines(input, options)) {
    line++;
    if (text.trim().length === 0) {
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new TokenizerInputError(`invalid JSON (${(error as Error).message})`, line);
    }
    yield { line, value };
  }
}

/**
 * The `field` string of each line of a JSONL stream (`{"text": "..."}` by default).
 * @throws TokenizerInputError with the line number when a line lacks the field or it is not a string.
 */
export async function* readJsonlTexts(
  input: Readable,
  field = "text",
  options: Utf8InputOptions = {},
): AsyncGenerator<string, void> {
  for await (const { line, value } of readJsonl(input, options)) {
    const text =
      typeof value === "object" && value !== null ? (value as Record<string, unknown>)[field] : undefined;
    if (typeof text !== "string") {
      throw new TokenizerInputError(
        `expected an object with a string "${field}" field, got ${JSON.stringify(value).slice(0, 80)}`,
        line,
      );
    }
    yield text;
  }
}
