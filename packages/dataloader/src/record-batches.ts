import type { InputRecord } from "./read-documents.js";

/** A run of consecutive raw records of one input file, sent to a worker as one request. */
export interface RecordBatch {
  file: string;
  /** Position of the batch's first record among the records of all the inputs (0-based). */
  firstRecord: number;
  records: InputRecord[];
}

/** What `processRecordBatches` yields, in input order. */
export type RecordBatchEvent<Result> =
  | { type: "file-start"; file: string; index: number; firstRecord: number }
  /** Every record of the file is read and sent; its last batches may still be in flight. */
  | { type: "file-end"; file: string; index: number }
  | { type: "batch-done"; batch: RecordBatch; result: Result };

/** Parameters of `processRecordBatches`. */
export interface ProcessRecordBatchesParams<Result> {
  inputs: readonly string[];
  /** The raw records of one input (e.g. `readRecords`). */
  read: (file: string) => AsyncIterable<InputRecord>;
  /** Processes one batch (on a worker thread, typically). */
  work: (batch: RecordBatch) => Promise<Result>;
  /** Approximate characters per batch. */
  batchChars: number;
  /** Batches sent but not yet yielded, at most. */
  maxInFlight: number;
}

/**
 * Reads the records of every input in order, in batches of about `batchChars` characters, hands each
 * batch to `work` while reading on (at most `maxInFlight` batches pending) and yields the results in
 * input order between `file-start` and `file-end` markers: the pipeline of `preprocess` and `dedup`,
 * with bounded memory and output in input order. A failed batch throws when its turn comes.
 */
export async function* processRecordBatches<Result>(
  params: ProcessRecordBatchesParams<Result>,
): AsyncGenerator<RecordBatchEvent<Result>, void> {
  const inFlight: Array<{ batch: RecordBatch; result: Promise<Result> }> = [];
  const send = (batch: RecordBatch) => {
    const result = params.work(batch);
    // Rejections surface when the batch is awaited in order; until then they are not "unhandled".
    result.catch(() => {});
    inFlight.push({ batch, result });
  };
  const next = async (): Promise<RecordBatchEvent<Result>> => {
    const { batch, result } = inFlight.shift() as (typeof inFlight)[number];
    return { type: "batch-done", batch, result: await result };
  };
  let record = 0;
  for (const [index, file] of params.inputs.entries()) {
    yield { type: "file-start", file, index, firstRecord: record };
    let batch: RecordBatch = { file, firstRecord: record, records: [] };
    let chars = 0;
    for await (const input of params.read(file)) {
      batch.records.push(input);
      record++;
      chars += input.raw.length;
      if (chars < params.batchChars) {
        continue;
      }
      send(batch);
      batch = { file, firstRecord: record, records: [] };
      chars = 0;
      while (inFlight.length >= params.maxInFlight) {
        yield await next();
      }
    }
    if (batch.records.length > 0) {
      send(batch);
    }
    yield { type: "file-end", file, index };
  }
  while (inFlight.length > 0) {
    yield await next();
  }
}
