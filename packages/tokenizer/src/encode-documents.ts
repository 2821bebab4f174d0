import { PILE_EOD_ID } from "./load-pile-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";

/** Parameters of `encodeDocuments`. */
export interface EncodeDocumentsParams {
  tokenizer: Tokenizer;
  /** Documents, one string each: any (async) iterable, e.g. a stream of JSONL `text` fields. */
  documents: AsyncIterable<string> | Iterable<string>;
  /** Append an end-of-document id after every document, as GPT-NeoX preprocessing does. @default true */
  appendEod?: boolean;
  /** The end-of-document id. @default 0 (`<|endoftext|>`) */
  eodId?: number;
  /** Stops between documents when aborted. */
  signal?: AbortSignal;
}

/**
 * Streams token ids document by document: yields one `Uint32Array` per input document (with the EOD
 * appended), pulling the next document only when the consumer asks, so memory stays flat however
 * large the corpus is.
 *
 * @example
 * for await (const ids of encodeDocuments({ tokenizer, documents: ["a", "b"] })) console.log(ids);
 */
export async function* encodeDocuments(params: EncodeDocumentsParams): AsyncGenerator<Uint32Array, void> {
  const appendEod = params.appendEod ?? true;
  const eodId = params.eodId ?? PILE_EOD_ID;
  for await (const document of params.documents) {
    params.signal?.throwIfAborted();
    if (typeof document !== "string") {
      throw new TypeError(`encodeDocuments: expected every document to be a string, got ${typeof document}`);
    }
    const ids = params.tokenizer.encode(document);
    const array = new Uint32Array(ids.length + (appendEod ? 1 : 0));
    array.set(ids);
    if (appendEod) {
      array[ids.length] = eodId;
    }
    yield array;
  }
}
