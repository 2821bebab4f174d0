import { createReadStream, statSync } from "node:fs";
import { Decompress } from "fzstd";
import { checkUtf8, utf8Lines, type InvalidUtf8 } from "@pythia/tokenizer/node";
import { DataloaderError } from "./errors.js";

/** One document read from an input file. */
export interface InputDocument {
  text: string;
  /** 1-based line of a JSONL input (the file's only document for plain text: 1). */
  line: number;
}

/** Parameters of `readDocuments`. */
export interface ReadDocumentsParams {
  /** `.jsonl`, `.jsonl.zst` (the Pile's format) or any other file, read as one plain-text document. */
  file: string;
  /** The JSONL field holding the text. @default "text" */
  jsonlKey?: string;
  /** Called with the number of input (possibly compressed) bytes consumed, for progress and ETA. */
  onBytes?: (bytes: number) => void;
  /** Refuse bytes that are not UTF-8 (a `TokenizerInputError` naming the file and byte offset). @default false */
  strict?: boolean;
  /** Called once for an input holding bytes that are not UTF-8 (they decode to U+FFFD), unless `strict`. */
  onInvalidUtf8?: (finding: InvalidUtf8) => void;
  signal?: AbortSignal;
}

/** One unparsed record of an input file: a JSONL line, or a whole plain-text file. */
export interface InputRecord {
  /** `jsonl`: `raw` is one JSON line; `text`: `raw` is the document itself. */
  kind: "jsonl" | "text";
  raw: string;
  /** 1-based line number (1 for plain text). */
  line: number;
}

/**
 * Streams the raw records of one input file with constant memory, leaving JSON parsing to
 * `parseRecord` (which preprocessing runs on its worker threads).
 */
export async function* readRecords(params: ReadDocumentsParams): AsyncGenerator<InputRecord, void> {
  const { file } = params;
  const isZstd = /\.zst$/i.test(file);
  const isJsonl = /\.jsonl(\.zst)?$/i.test(file);
  const chunks = checkUtf8(isZstd ? decompressZstd(readBytes(params), file) : readBytes(params), {
    file,
    strict: params.strict,
    onInvalidUtf8: params.onInvalidUtf8,
  });
  if (!isJsonl) {
    const decoder = new TextDecoder("utf-8");
    let text = "";
    for await (const chunk of chunks) {
      text += decoder.decode(chunk, { stream: true });
    }
    text += decoder.decode();
    yield { kind: "text", raw: text, line: 1 };
    return;
  }
  let line = 0;
  for await (const raw of utf8Lines(chunks)) {
    line++;
    params.signal?.throwIfAborted();
    yield { kind: "jsonl", raw, line };
  }
}

/**
 * The document text of a record, or `null` for an empty document or a blank line (skipped, as
 * GPT-NeoX's reader does).
 * @throws DataloaderError naming `file` and the line of invalid JSON or a missing/non-string field.
 */
export function parseRecord(record: InputRecord, file: string, jsonlKey = "text"): string | null {
  if (record.kind === "text") {
    return record.raw.length > 0 ? record.raw : null;
  }
  if (record.raw.trim().length === 0) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(record.raw);
  } catch (error) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${file}:${record.line}: invalid JSON (${(error as Error).message})`,
    );
  }
  const text =
    typeof value === "object" && value !== null ? (value as Record<string, unknown>)[jsonlKey] : undefined;
  if (typeof text !== "string") {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${file}:${record.line}: expected an object with a string "${jsonlKey}" field (set --jsonl-key for another field)`,
    );
  }
  return text.length > 0 ? text : null;
}

/**
 * Streams the documents of one input file with constant memory. Empty documents are skipped, as
 * GPT-NeoX's reader (lm_dataformat) does.
 * @throws DataloaderError naming the file and line of an invalid JSON line or a missing/non-string field.
 */
export async function* readDocuments(params: ReadDocumentsParams): AsyncGenerator<InputDocument, void> {
  for await (const record of readRecords(params)) {
    const text = parseRecord(record, params.file, params.jsonlKey);
    if (text !== null) {
      yield { text, line: record.line };
    }
  }
}

/**
 * The size in bytes of an input file (for progress and ETA).
 * @throws DataloaderError (`DATASET_IO`) naming the file when it cannot be read.
 */
export function inputSize(file: string): number {
  try {
    return statSync(file).size;
  } catch (error) {
    throw new DataloaderError(
      "DATASET_IO",
      `cannot read input ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
}

async function* readBytes(params: ReadDocumentsParams): AsyncGenerator<Uint8Array, void> {
  const stream = createReadStream(params.file, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      params.signal?.throwIfAborted();
      params.onBytes?.((chunk as Buffer).length);
      yield chunk as Buffer;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A string code is a file-system error; an abort (DOMException, numeric code 20) passes through.
    if (typeof code === "string" && code !== "ABORT_ERR") {
      throw new DataloaderError("DATASET_IO", `cannot read ${params.file} (${code})`, { cause: error });
    }
    throw error;
  } finally {
    stream.destroy();
  }
}

/**
 * Zstandard-decompresses a byte stream (pure JS, fzstd).
 * @throws DataloaderError naming `file` when the data is not zstd or ends early.
 */
async function* decompressZstd(
  input: AsyncIterable<Uint8Array>,
  file: string,
): AsyncGenerator<Uint8Array, void> {
  const out: Uint8Array[] = [];
  const decompressor = new Decompress((chunk) => {
    out.push(chunk);
  });
  let consumed = 0;
  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      decompressor.push(chunk, final);
    } catch (error) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `${file}: not valid zstd data (${(error as Error).message} within the first ${consumed + chunk.length} bytes); the file is truncated or not zstd: check it with \`zstd -t\` or download it again`,
        { cause: error },
      );
    }
    consumed += chunk.length;
  };
  for await (const chunk of input) {
    push(chunk, false);
    yield* out.splice(0);
  }
  push(new Uint8Array(0), true);
  yield* out.splice(0);
}
