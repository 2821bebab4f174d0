import type { MinHasher } from "./min-hasher.js";
import { parseRecord, type InputRecord } from "./read-documents.js";

/** MinHash signatures of the documents of a batch of records (blank lines and empty documents skipped). */
export interface SignedBatch {
  /** `numPerm` values per document, back to back. */
  signatures: Uint32Array;
  /** For each document, the index of its record in the batch. */
  records: Uint32Array;
}

/** Parses a batch of records and signs each document. Shared by the worker threads and `workers: 0`. */
export function signRecords(
  hasher: MinHasher,
  records: readonly InputRecord[],
  file: string,
  jsonlKey: string,
): SignedBatch {
  const texts: string[] = [];
  const positions: number[] = [];
  records.forEach((record, position) => {
    const text = parseRecord(record, file, jsonlKey);
    if (text !== null) {
      texts.push(text);
      positions.push(position);
    }
  });
  const signatures = new Uint32Array(texts.length * hasher.numPerm);
  texts.forEach((text, i) => hasher.signatureInto(text, signatures, i * hasher.numPerm));
  return { signatures, records: Uint32Array.from(positions) };
}
