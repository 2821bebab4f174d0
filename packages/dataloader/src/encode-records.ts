import type { Tokenizer } from "@pythia/tokenizer";
import { parseRecord, type InputRecord } from "./read-documents.js";

/** A batch of encoded documents: ids back to back, and each document's length. */
export interface EncodedBatch {
  ids: Uint32Array;
  lengths: Uint32Array;
}

/** Parses and tokenizes a batch of records (empty documents are skipped). Shared by both preprocessing modes. */
export function encodeRecords(
  tokenizer: Tokenizer,
  records: readonly InputRecord[],
  file: string,
  jsonlKey: string,
): EncodedBatch {
  const encoded: number[][] = [];
  let total = 0;
  for (const record of records) {
    const text = parseRecord(record, file, jsonlKey);
    if (text !== null) {
      const ids = tokenizer.encode(text);
      encoded.push(ids);
      total += ids.length;
    }
  }
  const ids = new Uint32Array(total);
  const lengths = new Uint32Array(encoded.length);
  let at = 0;
  encoded.forEach((part, i) => {
    ids.set(part, at);
    lengths[i] = part.length;
    at += part.length;
  });
  return { ids, lengths };
}
