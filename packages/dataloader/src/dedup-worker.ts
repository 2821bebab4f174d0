/**
 * Worker thread of `dedup`: parses batches of raw records and answers with their documents' MinHash
 * signatures (buffers transferred).
 */
import { workerData } from "node:worker_threads";
import { serveWorker } from "@pythia/core";
import { MinHasher, type MinHasherParams } from "./min-hasher.js";
import type { InputRecord } from "./read-documents.js";
import { signRecords, type SignedBatch } from "./sign-records.js";

interface Request {
  file: string;
  jsonlKey: string;
  records: InputRecord[];
}

await serveWorker<Request, SignedBatch, MinHasher>({
  setup: () => new MinHasher(workerData as MinHasherParams),
  handler: (request, hasher) => {
    const signed = signRecords(hasher, request.records, request.file, request.jsonlKey);
    return {
      result: signed,
      transfer: [signed.signatures.buffer as ArrayBuffer, signed.records.buffer as ArrayBuffer],
    };
  },
});
