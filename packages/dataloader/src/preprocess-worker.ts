/**
 * Worker thread of `preprocess`: loads the tokenizer once, then parses and encodes batches of raw
 * records, answering with the concatenated ids and per-document lengths (buffers transferred).
 */
import { workerData } from "node:worker_threads";
import { serveWorker } from "@pythia/core";
import { loadPileTokenizer, loadTokenizerFile, type Tokenizer } from "@pythia/tokenizer/node";
import { encodeRecords, type EncodedBatch } from "./encode-records.js";
import type { InputRecord } from "./read-documents.js";

interface Request {
  file: string;
  jsonlKey: string;
  records: InputRecord[];
}

const { tokenizerPath } = workerData as { tokenizerPath: string | null };

await serveWorker<Request, EncodedBatch, Tokenizer>({
  setup: () => (tokenizerPath === null ? loadPileTokenizer() : loadTokenizerFile(tokenizerPath)),
  handler: (request, tokenizer) => {
    const encoded = encodeRecords(tokenizer, request.records, request.file, request.jsonlKey);
    return {
      result: encoded,
      transfer: [encoded.ids.buffer as ArrayBuffer, encoded.lengths.buffer as ArrayBuffer],
    };
  },
});
