/**
 * Worker thread of `preprocess`: loads the tokenizer once, then parses and encodes batches of raw
 * records, answering with the concatenated ids and per-document lengths (buffers transferred).
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadPileTokenizer, loadTokenizerFile } from "@pythia/tokenizer/node";
import { encodeRecords } from "./encode-records.js";
import type { InputRecord } from "./read-documents.js";

interface Request {
  seq: number;
  file: string;
  jsonlKey: string;
  records: InputRecord[];
}

const port = parentPort;
if (port === null) {
  throw new Error("preprocess-worker.js must run in a worker thread");
}
const { tokenizerPath } = workerData as { tokenizerPath: string | null };
const tokenizer = tokenizerPath === null ? await loadPileTokenizer() : await loadTokenizerFile(tokenizerPath);

port.on("message", (request: Request) => {
  try {
    const { ids, lengths } = encodeRecords(tokenizer, request.records, request.file, request.jsonlKey);
    port.postMessage({ seq: request.seq, ids, lengths }, [
      ids.buffer as ArrayBuffer,
      lengths.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    port.postMessage({ seq: request.seq, error: (error as Error).message });
  }
});
port.postMessage({ ready: true });
