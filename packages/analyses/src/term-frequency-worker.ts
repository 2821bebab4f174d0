/**
 * Worker thread of `termFrequency`: loads the tokenizer once, then decodes and counts batches of
 * rows, answering with the chunk's counts as parallel key and value arrays.
 */
import { workerData } from "node:worker_threads";
import { serveWorker } from "@pythia/core";
import { loadPileTokenizer, loadTokenizerFile, type Tokenizer } from "@pythia/tokenizer/node";
import { countRows, type RowTextOptions } from "./term-frequency-count.js";

/** A batch of rows for a worker. */
export interface CountRequest {
  flat: Int32Array;
  width: number;
}

/** A worker's counts of one batch. */
export interface CountResponse {
  keys: string[];
  values: number[];
}

const { tokenizerFile, options, keys } = workerData as {
  tokenizerFile: string | null;
  options: RowTextOptions;
  /** Send back only these keys (all when null). */
  keys: string[] | null;
};
const wanted = keys === null ? null : new Set(keys);

await serveWorker<CountRequest, CountResponse, Tokenizer>({
  setup: () => (tokenizerFile === null ? loadPileTokenizer() : loadTokenizerFile(tokenizerFile)),
  handler: (request, tokenizer) => {
    const counts = countRows({
      flat: request.flat,
      width: request.width,
      decode: (ids) => tokenizer.decode(ids),
      counts: new Map(),
      options,
    });
    const entries = [...counts].filter(([key]) => wanted === null || wanted.has(key));
    return { result: { keys: entries.map(([key]) => key), values: entries.map(([, value]) => value) } };
  },
});
