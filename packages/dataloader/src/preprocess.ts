import { drain } from "@pythia/core";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Tokenizer } from "@pythia/tokenizer";
import { loadPileTokenizer, loadTokenizerFile, type InvalidUtf8 } from "@pythia/tokenizer/node";
import { bestDtype, type DtypeName } from "./dtype.js";
import { DataloaderError } from "./errors.js";
import { IndexedDatasetBuilder, type IndexedDatasetSummary } from "./indexed-dataset-builder.js";
import { encodeRecords, type EncodedBatch } from "./encode-records.js";
import { inputSize, readRecords, type InputRecord } from "./read-documents.js";
import { processRecordBatches } from "./record-batches.js";
import { startRecordWorkers, type RecordWorkers } from "./record-workers.js";
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
  try {
    let invalid: InvalidUtf8 | null = null;
    const batches = processRecordBatches({
      inputs: params.inputs,
      read: (file) =>
        readRecords({
          file,
          signal: params.signal,
          strict: params.strict,
          onInvalidUtf8: (finding) => (invalid = finding),
          onBytes: (n) => (bytesRead += n),
        }),
      work: (batch) => encoder.run({ file: batch.file, jsonlKey, records: batch.records }),
      batchChars,
      maxInFlight: Math.max(2, encoder.parallelism * 2),
    });
    for await (const event of batches) {
      if (event.type === "file-start") {
        invalid = null;
        yield { type: "file-start", file: event.file, index: event.index };
      } else if (event.type === "file-end") {
        if (invalid !== null) {
          yield { type: "invalid-utf8", ...(invalid as InvalidUtf8) };
        }
      } else {
        write(event.result);
        if (performance.now() - lastProgress >= interval) {
          lastProgress = performance.now();
          yield progress();
        }
      }
    }
    yield progress();
    const summary = builder.finalize();
    return { ...summary, elapsedMs: performance.now() - started };
  } catch (error) {
    builder.abort();
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

interface Encoder extends RecordWorkers<Batch, EncodedBatch> {
  vocabSize: number;
}

async function loadTokenizer(path: string | null): Promise<Tokenizer> {
  return path === null ? loadPileTokenizer() : loadTokenizerFile(path);
}

/** Tokenizes on this thread (`workers: 0`) or on a pool of worker threads. */
async function createEncoder(tokenizerPath: string | null, workers: number): Promise<Encoder> {
  const tokenizer = await loadTokenizer(tokenizerPath);
  const encoder = await startRecordWorkers<Batch, EncodedBatch>({
    workers,
    script: "preprocess-worker.js",
    name: "tokenizer worker",
    workerData: { tokenizerPath },
    local: (batch) => encodeRecords(tokenizer, batch.records, batch.file, batch.jsonlKey),
  });
  return { ...encoder, vocabSize: tokenizer.vocabSize };
}
