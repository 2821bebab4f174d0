import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { drain, renameDurable, temporaryPath, writeFileAtomic } from "@pythia/core";
import type { DtypeName } from "./dtype.js";
import { DataloaderError } from "./errors.js";
import { findDuplicates, type KeepPolicy } from "./lsh-index.js";
import {
  optimalLshParameters,
  type LshParameters,
  falseNegativeArea,
  falsePositiveArea,
} from "./lsh-parameters.js";
import { MinHasher } from "./min-hasher.js";
import { preprocessIter } from "./preprocess.js";
import { inputSize, parseRecord, readRecords, type InputRecord } from "./read-documents.js";
import { processRecordBatches } from "./record-batches.js";
import { startRecordWorkers, type RecordWorkers } from "./record-workers.js";
import { signRecords, type SignedBatch } from "./sign-records.js";
import { SignatureStore } from "./signature-store.js";
import { exactJaccard, wordShingles } from "./word-shingles.js";
import { chooseSample, clusterStats, type DuplicateClusters } from "./dedup-sample.js";

export type { DuplicateClusters } from "./dedup-sample.js";

/** Parameters of `dedup` / `dedupIter`. */
export interface DedupParams {
  /** Input files: `.jsonl`, `.jsonl.zst`, or plain text (one document per file). */
  inputs: readonly string[];
  /**
   * Output prefix: kept documents go to `{outputPrefix}.jsonl` (format `jsonl`) or
   * `{outputPrefix}_{jsonlKey}_document.bin/.idx` (format `bin`), the report to
   * `{outputPrefix}.dedup-report.json`.
   */
  outputPrefix: string;
  /** Jaccard threshold of a near-duplicate. @default 0.87 (Pythia's deduplicated Pile) */
  threshold?: number;
  /** MinHash signature length. @default 128 */
  numPerm?: number;
  /** Seed of the MinHash permutations; equal seeds drop the same documents. @default 1 */
  seed?: number;
  /** Word tokens per shingle. @default 5 (as the Pile's near-deduplication) */
  shingleSize?: number;
  /** Which copy of a near-duplicate survives. @default "last" (the Pile's rule) */
  keep?: KeepPolicy;
  /** Bands and rows, instead of datasketch's optimum for `threshold` and `numPerm`. */
  lsh?: { bands: number; rows: number };
  /** Weights of the false-positive and false-negative areas when choosing bands. @default [0.5, 0.5] */
  weights?: readonly [falsePositive: number, falseNegative: number];
  /** Signature threads; 0 computes on the calling thread. @default 1 */
  workers?: number;
  /** JSONL field holding the text. @default "text" */
  jsonlKey?: string;
  /** `jsonl`: the kept input lines, unchanged; `bin`: a tokenized GPT-NeoX dataset. @default "jsonl" */
  format?: "jsonl" | "bin";
  /** For `bin`: a Hugging Face `tokenizer.json`. @default the bundled GPT-NeoX-20B tokenizer */
  tokenizerPath?: string;
  /** For `bin`: the element type. @default chosen from the vocabulary size */
  dtype?: DtypeName;
  /** For `bin`: append the end-of-document id 0. @default true */
  appendEod?: boolean;
  /** Dropped pairs whose exact Jaccard the report gives. @default 100 */
  sampleSize?: number;
  /** Approximate input characters per batch sent to a worker. @default 262144 */
  batchChars?: number;
  /** Minimum time between `progress` events. @default 500 */
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

/** Phases of `dedupIter`, in order (`tokenize` only for format `bin`). */
export type DedupPhase = "signatures" | "duplicates" | "write" | "tokenize";

/** Progress of a running `dedupIter`. */
export type DedupEvent =
  | { type: "phase"; phase: DedupPhase; elapsedMs: number }
  | {
      type: "progress";
      phase: DedupPhase;
      /** Documents signed (`signatures`), written (`write`), tokenized (`tokenize`). */
      documents: number;
      /** Input bytes consumed in this phase (compressed bytes for `.zst`) and in total, for an ETA. */
      bytesRead: number;
      totalBytes: number;
      elapsedMs: number;
    }
  | { type: "duplicates"; documents: number; dropped: number; comparisons: number; elapsedMs: number };

/** A document of the input: its index among all documents, its file and (1-based) line. */
export interface DocumentReference {
  document: number;
  file: string;
  line: number;
}

/** One sampled dropped document and the near-duplicate that dropped it. */
export interface DedupSamplePair {
  dropped: DocumentReference;
  duplicateOf: DocumentReference;
  estimatedJaccard: number;
  /** Jaccard similarity of the two documents' shingle sets, computed from the texts. */
  exactJaccard: number;
}

/** What `dedup` did: written as `{outputPrefix}.dedup-report.json`. */
export interface DedupReport {
  inputs: string[];
  threshold: number;
  numPerm: number;
  seed: number;
  shingles: { unit: "word"; size: number };
  keep: KeepPolicy;
  lsh: LshParameters;
  documents: number;
  kept: number;
  dropped: number;
  /** Candidate pairs whose signatures were compared. */
  comparisons: number;
  /** Connected components of the "dropped because of" links. */
  clusters: DuplicateClusters;
  /** A deterministic uniform sample of dropped documents, with estimated and exact Jaccard. */
  sample: DedupSamplePair[];
  sampleStats: { pairs: number; meanEstimated: number; meanExact: number; exactBelowThreshold: number };
  outputs: { documents?: string; dataset?: string; report: string };
  memory: { signatureBytes: number; indexBytes: number };
  elapsedMs: { signatures: number; duplicates: number; write: number; total: number };
}

interface Batch {
  file: string;
  jsonlKey: string;
  records: InputRecord[];
}

/**
 * Near-deduplicates documents with MinHash LSH, like the Pile's deduplication behind Pythia's
 * "deduped" models: word 5-gram shingles, `numPerm` MinHash values, bands and rows chosen as datasketch
 * does for the threshold, candidate pairs verified by estimated Jaccard, and the Pile's rule to drop
 * (a document goes when a later one is its near-duplicate; `keep: "first"` mirrors it). Two passes
 * over the inputs: signatures (on worker threads), then the kept documents written in input order.
 * Outputs appear atomically. Yields progress events; returns the report (also written as JSON).
 */
export async function* dedupIter(params: DedupParams): AsyncGenerator<DedupEvent, DedupReport> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const threshold = params.threshold ?? 0.87;
  const numPerm = params.numPerm ?? 128;
  const seed = params.seed ?? 1;
  const shingleSize = params.shingleSize ?? 5;
  const keep = params.keep ?? "last";
  const jsonlKey = params.jsonlKey ?? "text";
  const format = params.format ?? "jsonl";
  const sampleSize = params.sampleSize ?? 100;
  const batchChars = params.batchChars ?? 1 << 18;
  const interval = params.progressIntervalMs ?? 500;
  if (params.inputs.length === 0) {
    throw new DataloaderError("DATASET_INPUT", "dedup: no input files given");
  }
  if (keep !== "first" && keep !== "last") {
    throw new DataloaderError("DATASET_INPUT", `dedup: keep must be "first" or "last", got ${String(keep)}`);
  }
  if (format !== "jsonl" && format !== "bin") {
    throw new DataloaderError(
      "DATASET_INPUT",
      `dedup: format must be "jsonl" or "bin", got ${String(format)}`,
    );
  }
  const lsh = chooseLsh(threshold, numPerm, params);
  const hasher = new MinHasher({ numPerm, seed, shingleSize }); // validates the parameters
  const totalBytes = params.inputs.reduce((sum, file) => sum + inputSize(file), 0);
  mkdirSync(dirname(params.outputPrefix), { recursive: true });

  // Pass 1: signatures, in input order.
  yield { type: "phase", phase: "signatures", elapsedMs: elapsed() };
  const signatures = new SignatureStore(numPerm);
  const documentRecords: number[] = [];
  const fileRecordStarts: number[] = [];
  const signer = await createSigner(hasher, params.workers ?? 1);
  let bytesRead = 0;
  let lastProgress = 0;
  const progress = (phase: DedupPhase, documents: number): DedupEvent => ({
    type: "progress",
    phase,
    documents,
    bytesRead,
    totalBytes,
    elapsedMs: elapsed(),
  });
  try {
    const batches = processRecordBatches({
      inputs: params.inputs,
      read: (file) => readRecords({ file, signal: params.signal, onBytes: (n) => (bytesRead += n) }),
      work: (batch) => signer.run({ file: batch.file, jsonlKey, records: batch.records }),
      batchChars,
      maxInFlight: Math.max(2, signer.parallelism * 2),
    });
    for await (const event of batches) {
      if (event.type === "file-start") {
        fileRecordStarts.push(event.firstRecord);
      } else if (event.type === "batch-done") {
        signatures.append(event.result.signatures, event.result.records.length);
        for (const position of event.result.records) {
          documentRecords.push(event.batch.firstRecord + position);
        }
        if (performance.now() - lastProgress >= interval) {
          lastProgress = performance.now();
          yield progress("signatures", signatures.length);
        }
      }
    }
    yield progress("signatures", signatures.length);
  } finally {
    await signer.close();
  }
  const signaturesMs = elapsed();

  // Which documents go.
  yield { type: "phase", phase: "duplicates", elapsedMs: elapsed() };
  params.signal?.throwIfAborted();
  const decisions = findDuplicates({ signatures, bands: lsh.bands, rows: lsh.rows, threshold, keep });
  const documents = signatures.length;
  yield {
    type: "duplicates",
    documents,
    dropped: decisions.dropped,
    comparisons: decisions.comparisons,
    elapsedMs: elapsed(),
  };
  const duplicatesMs = elapsed() - signaturesMs;
  const samplePairs = chooseSample(decisions.duplicateOf, sampleSize, seed);
  const neededTexts = new Map<number, string>();
  for (const [dropped, other] of samplePairs) {
    neededTexts.set(dropped, "");
    neededTexts.set(other, "");
  }

  // Pass 2: the kept documents, in input order.
  yield { type: "phase", phase: "write", elapsedMs: elapsed() };
  const documentsPath = `${params.outputPrefix}.jsonl`;
  // A `.jsonl` name for format `bin`: preprocessing reads it by its extension.
  const writePath =
    format === "jsonl" ? temporaryPath(documentsPath) : `${temporaryPath(params.outputPrefix)}.jsonl`;
  const writer = openSync(writePath, "w");
  let written = 0;
  let complete = false;
  try {
    bytesRead = 0;
    let pending: string[] = [];
    let pendingChars = 0;
    const flush = () => {
      writeSync(writer, pending.join(""));
      pending = [];
      pendingChars = 0;
    };
    let record = 0;
    let document = 0;
    for (const file of params.inputs) {
      for await (const input of readRecords({
        file,
        signal: params.signal,
        onBytes: (n) => (bytesRead += n),
      })) {
        if (documentRecords[document] === record) {
          if (neededTexts.has(document)) {
            neededTexts.set(document, parseRecord(input, file, jsonlKey) ?? "");
          }
          if (decisions.duplicateOf[document] === -1) {
            const line = input.kind === "jsonl" ? input.raw : JSON.stringify({ [jsonlKey]: input.raw });
            pending.push(line, "\n");
            pendingChars += line.length + 1;
            written++;
            if (pendingChars >= 1 << 20) {
              flush();
            }
          }
          document++;
        }
        record++;
        if (performance.now() - lastProgress >= interval) {
          lastProgress = performance.now();
          yield progress("write", written);
        }
      }
    }
    flush();
    if (document !== documents) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `dedup: the inputs changed between the two passes (${documents} documents, then ${document}): do not modify them while deduplicating`,
      );
    }
    yield progress("write", written);
    complete = true;
  } finally {
    // Also when the caller stops iterating early: no temporary file is left behind.
    closeSync(writer);
    if (!complete) {
      rmSync(writePath, { force: true });
    }
  }
  const writeMs = elapsed() - signaturesMs - duplicatesMs;

  const outputs: DedupReport["outputs"] = { report: `${params.outputPrefix}.dedup-report.json` };
  if (format === "jsonl") {
    renameDurable(writePath, documentsPath);
    outputs.documents = documentsPath;
  } else {
    yield { type: "phase", phase: "tokenize", elapsedMs: elapsed() };
    try {
      const tokenizing = preprocessIter({
        inputs: [writePath],
        outputPrefix: params.outputPrefix,
        jsonlKey,
        tokenizerPath: params.tokenizerPath,
        workers: params.workers ?? 1,
        dtype: params.dtype,
        appendEod: params.appendEod,
        signal: params.signal,
        progressIntervalMs: interval,
      });
      for (;;) {
        const next = await tokenizing.next();
        if (next.done) {
          outputs.dataset = next.value.prefix;
          break;
        }
        if (next.value.type === "progress") {
          yield { ...next.value, phase: "tokenize", elapsedMs: elapsed() };
        }
      }
    } finally {
      rmSync(writePath, { force: true });
    }
  }

  const referenceOf = (document: number): DocumentReference => {
    const record = documentRecords[document] as number;
    let file = 0;
    while (file + 1 < fileRecordStarts.length && (fileRecordStarts[file + 1] as number) <= record) {
      file++;
    }
    return {
      document,
      file: params.inputs[file] as string,
      line: record - (fileRecordStarts[file] as number) + 1,
    };
  };
  const sample = samplePairs.map(([dropped, other]): DedupSamplePair => ({
    dropped: referenceOf(dropped),
    duplicateOf: referenceOf(other),
    estimatedJaccard: decisions.estimatedJaccard[dropped] as number,
    exactJaccard: exactJaccard(
      wordShingles(neededTexts.get(dropped) ?? "", shingleSize),
      wordShingles(neededTexts.get(other) ?? "", shingleSize),
    ),
  }));
  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
  const report: DedupReport = {
    inputs: [...params.inputs],
    threshold,
    numPerm,
    seed,
    shingles: { unit: "word", size: shingleSize },
    keep,
    lsh,
    documents,
    kept: documents - decisions.dropped,
    dropped: decisions.dropped,
    comparisons: decisions.comparisons,
    clusters: clusterStats(decisions.duplicateOf),
    sample,
    sampleStats: {
      pairs: sample.length,
      meanEstimated: mean(sample.map((pair) => pair.estimatedJaccard)),
      meanExact: mean(sample.map((pair) => pair.exactJaccard)),
      exactBelowThreshold: sample.filter((pair) => pair.exactJaccard < threshold).length,
    },
    outputs,
    memory: { signatureBytes: signatures.bytes, indexBytes: decisions.indexBytes },
    elapsedMs: { signatures: signaturesMs, duplicates: duplicatesMs, write: writeMs, total: elapsed() },
  };
  writeFileAtomic(outputs.report, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Drains `dedupIter`, passing each event to `onEvent`. */
export async function dedup(
  params: DedupParams & { onEvent?: (event: DedupEvent) => void },
): Promise<DedupReport> {
  return drain(dedupIter(params), params.onEvent);
}

function chooseLsh(threshold: number, numPerm: number, params: DedupParams): LshParameters {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new DataloaderError("DATASET_INPUT", `dedup: threshold must be in [0, 1], got ${threshold}`);
  }
  if (params.lsh === undefined) {
    return optimalLshParameters({
      threshold,
      numPerm,
      falsePositiveWeight: params.weights?.[0],
      falseNegativeWeight: params.weights?.[1],
    });
  }
  const { bands, rows } = params.lsh;
  if (
    !Number.isInteger(bands) ||
    !Number.isInteger(rows) ||
    bands < 1 ||
    rows < 1 ||
    bands * rows > numPerm
  ) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `dedup: lsh bands x rows must be positive integers with a product <= numPerm (${numPerm}), got ${bands} x ${rows}`,
    );
  }
  return {
    bands,
    rows,
    falsePositiveArea: falsePositiveArea(threshold, bands, rows),
    falseNegativeArea: falseNegativeArea(threshold, bands, rows),
  };
}

/** Signs on this thread (`workers: 0`) or on a pool of worker threads. */
function createSigner(hasher: MinHasher, workers: number): Promise<RecordWorkers<Batch, SignedBatch>> {
  return startRecordWorkers<Batch, SignedBatch>({
    workers,
    script: "dedup-worker.js",
    name: "dedup worker",
    workerData: { numPerm: hasher.numPerm, seed: hasher.seed, shingleSize: hasher.shingleSize },
    local: (batch) => signRecords(hasher, batch.records, batch.file, batch.jsonlKey),
  });
}
