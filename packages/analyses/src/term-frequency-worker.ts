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

const { tokenizerFile, options } = workerData as {
  tokenizerFile: string | null;
  options: RowTextOptions;
};

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
    return { result: { keys: [...counts.keys()], values: [...counts.values()] } };
  },
});
