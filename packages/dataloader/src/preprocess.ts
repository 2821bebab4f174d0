import { drain, startWorkerPool, type PythiaError } from "@pythia/core";
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { Tokenizer } from "@pythia/tokenizer";
import { loadPileTokenizer, loadTokenizerFile, type InvalidUtf8 } from "@pythia/tokenizer/node";
import { bestDtype, type DtypeName } from "./dtype.js";
import { DataloaderError } from "./errors.js";
import { IndexedDatasetBuilder, type IndexedDatasetSummary } from "./indexed-dataset-builder.js";
import { encodeRecords, type EncodedBatch } from "./encode-records.js";
import { readRecords, type InputRecord } from "./read-documents.js";
import { removeStaleTemporaryFiles } from "./stale-temporary-files.js";
import { isSystemError, writeFailure } from "./write-failure.js";

/** Parameters of `preprocess` / `preprocessIter`. */
export interface PreprocessParams {
  /** Input files: `.jsonl`, `.jsonl.zst`, or plain text (one document per file). */
  inputs: readonly string[];
  /**
   * Output prefix, as GPT-NeoX's `--output-prefix`: the dataset is written to
   * `{outputPrefix}_{jsonlKey}_document.{bin,idx}`.
   */
  outputPrefix: string;
  /** JSONL field holding the text. @default "text" */
  jsonlKey?: string;
  /** A Hugging Face `tokenizer.json`. @default the bundled GPT-NeoX-20B tokenizer */
  tokenizerPath?: string;
  /** Tokenizer threads; 0 tokenizes on the calling thread. @default 1 */
  workers?: number;
  /** Append the end-of-document id to every document (GPT-NeoX `--append-eod`, always on for Pythia). @default true */
  appendEod?: boolean;
  /** The end-of-document id. @default 0 */
  eodId?: number;
  /** Element type. @default uint16 when the vocabulary has fewer than 65500 ids, else int32 */
  dtype?: DtypeName;
  /** Approximate input characters per batch sent to a worker. @default 262144 */
  batchChars?: number;
  /** Refuse input bytes that are not UTF-8 instead of replacing them by U+FFFD with an `invalid-utf8` event. @default false */
  strict?: boolean;
  /** Minimum time between `progress` events. @default 500 */
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

/** Progress of a running `preprocessIter`. */
export type PreprocessEvent =
  | { type: "file-start"; file: string; index: number }
  /** The file held bytes that are not UTF-8 (decoded to U+FFFD); offset in the decompressed stream for `.zst`. */
  | { type: "invalid-utf8"; file: string; byteOffset: number; count: number }
  | {
      type: "progress";
      documents: number;
      tokens: number;
      /** Input bytes consumed (compressed bytes for `.zst`) and in total, for an ETA. */
      bytesRead: number;
      totalBytes: number;
      elapsedMs: number;
    };

/** What `preprocess` wrote. */
export interface PreprocessSummary extends IndexedDatasetSummary {
  elapsedMs: number;
}

interface Batch {
  seq: number;
  file: string;
  jsonlKey: string;
  records: InputRecord[];
}

/**
 * Tokenizes documents into a GPT-NeoX indexed dataset like `tools/preprocess_data.py`: one item per
 * document with the EOD appended, streaming with bounded memory (a fixed number of batches in
 * flight), tokenization in worker threads, documents written in input order, and an atomic output
 * (nothing under the final name until the end; temporary files are removed on failure or abort).
 * Yields progress events; returns the summary.
 */
export async function* preprocessIter(
  params: PreprocessParams,
): AsyncGenerator<PreprocessEvent, PreprocessSummary> {
  const started = performance.now();
  const jsonlKey = params.jsonlKey ?? "text";
  const eodId = params.eodId ?? 0;
  const appendEod = params.appendEod ?? true;
  const batchChars = params.batchChars ?? 1 << 18;
  const interval = params.progressIntervalMs ?? 500;
  if (params.inputs.length === 0) {
    throw new DataloaderError("DATASET_INPUT", "preprocess: no input files given");
  }
  const totalBytes = params.inputs.reduce((sum, file) => sum + inputSize(file), 0);
  const prefix = `${params.outputPrefix}_${jsonlKey}_document`;
  try {
    mkdirSync(dirname(params.outputPrefix), { recursive: true });
  } catch (error) {
    throw isSystemError(error) ? writeFailure(dirname(params.outputPrefix), error) : error;
  }
  removeStaleTemporaryFiles(prefix);
  const encoder = await createEncoder(params.tokenizerPath ?? null, params.workers ?? 1);
  let builder: IndexedDatasetBuilder;
  try {
    builder = IndexedDatasetBuilder.create({
      prefix,
      dtype: params.dtype ?? bestDtype(encoder.vocabSize).name,
      vocabSize: encoder.vocabSize,
    });
  } catch (error) {
    // Worker threads would keep the process alive.
    await encoder.close();
    throw error;
  }
  let documents = 0;
  let tokens = 0;
  let bytesRead = 0;
  let lastProgress = 0;
  const write = (encoded: EncodedBatch) => {
    let at = 0;
    for (const length of encoded.lengths) {
      const ids = encoded.ids.subarray(at, at + length);
      at += length;
      if (appendEod) {
        const withEod = new Uint32Array(length + 1);
        withEod.set(ids);
        withEod[length] = eodId;
        builder.addItem(withEod);
      } else {
        builder.addItem(ids);
      }
      builder.endDocument();
      documents++;
      tokens += length + (appendEod ? 1 : 0);
    }
  };
  const progress = (): PreprocessEvent => ({
    type: "progress",
    documents,
    tokens,
    bytesRead,
    totalBytes,
    elapsedMs: performance.now() - started,
  });
  // Batches go out in order and are written in order; at most `maxInFlight` wait at once.
  const inFlight: Array<Promise<EncodedBatch>> = [];
  try {
    const maxInFlight = Math.max(2, encoder.parallelism * 2);
    let seq = 0;
    for (const [index, file] of params.inputs.entries()) {
      yield { type: "file-start", file, index };
      let records: InputRecord[] = [];
      let chars = 0;
      const send = () => {
        inFlight.push(encoder.encode({ seq: seq++, file, jsonlKey, records }));
        records = [];
        chars = 0;
      };
      let invalid: InvalidUtf8 | null = null;
      for await (const record of readRecords({
        file,
        signal: params.signal,
        strict: params.strict,
        onInvalidUtf8: (finding) => (invalid = finding),
        onBytes: (n) => (bytesRead += n),
      })) {
        records.push(record);
        chars += record.raw.length;
        if (chars < batchChars) {
          continue;
        }
        send();
        while (inFlight.length >= maxInFlight) {
          write(await (inFlight.shift() as Promise<EncodedBatch>));
        }
        if (performance.now() - lastProgress >= interval) {
          lastProgress = performance.now();
          yield progress();
        }
      }
      if (records.length > 0) {
        send();
      }
      if (invalid !== null) {
        yield { type: "invalid-utf8", ...(invalid as InvalidUtf8) };
      }
    }
    while (inFlight.length > 0) {
      write(await (inFlight.shift() as Promise<EncodedBatch>));
    }
    yield progress();
    const summary = builder.finalize();
    return { ...summary, elapsedMs: performance.now() - started };
  } catch (error) {
    builder.abort();
    // Batches still in flight reject when the pool closes; nobody waits for them any more.
    for (const pending of inFlight) {
      pending.catch(() => undefined);
    }
    throw error;
  } finally {
    await encoder.close();
  }
}

/** Drains `preprocessIter`, passing each event to `onEvent`. */
export async function preprocess(
  params: PreprocessParams & { onEvent?: (event: PreprocessEvent) => void },
): Promise<PreprocessSummary> {
  return drain(preprocessIter(params), params.onEvent);
}

function inputSize(file: string): number {
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

interface Encoder {
  vocabSize: number;
  parallelism: number;
  encode(batch: Batch): Promise<EncodedBatch>;
  close(): Promise<void>;
}

async function loadTokenizer(path: string | null): Promise<Tokenizer> {
  return path === null ? loadPileTokenizer() : loadTokenizerFile(path);
}

/** Tokenizes on this thread (`workers: 0`) or on a pool of worker threads, round robin. */
async function createEncoder(tokenizerPath: string | null, workers: number): Promise<Encoder> {
  if (!Number.isInteger(workers) || workers < 0) {
    throw new DataloaderError("DATASET_INPUT", `workers must be a non-negative integer, got ${workers}`);
  }
  const tokenizer = await loadTokenizer(tokenizerPath);
  if (workers === 0) {
    return {
      vocabSize: tokenizer.vocabSize,
      parallelism: 1,
      encode: async (batch) => encodeRecords(tokenizer, batch.records, batch.file, batch.jsonlKey),
      close: async () => {},
    };
  }
  const pool = await startWorkerPool<Batch, EncodedBatch>({
    url: workerUrl(),
    size: workers,
    name: "tokenizer worker",
    workerData: { tokenizerPath },
  }).catch((error: Error) => {
    throw new DataloaderError("DATASET_IO", error.message, { cause: error });
  });
  return {
    vocabSize: tokenizer.vocabSize,
    parallelism: workers,
    encode: (batch) =>
      pool.run(batch).catch((error: PythiaError) => {
        const code = error.code === "WORKER_REQUEST" ? "DATASET_INPUT" : "DATASET_IO";
        throw new DataloaderError(code, error.message, { cause: error });
      }),
    close: () => pool.close(),
  };
}

/** The built worker script (from the sources, tests use the build in `dist/`). */
function workerUrl(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("../dist/preprocess-worker.js", import.meta.url)
    : new URL("./preprocess-worker.js", import.meta.url);
}
