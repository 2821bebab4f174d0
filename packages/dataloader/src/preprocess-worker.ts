/**
 * Worker thread of `preprocess`: loads the tokenizer once, then answers `{ seq, texts }` with the
 * concatenated ids and per-document lengths (buffers transferred, not copied).
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadPileTokenizer, loadTokenizerFile } from "@pythia/tokenizer/node";

interface Request {
  seq: number;
  texts: string[];
}

const port = parentPort;
if (port === null) {
  throw new Error("preprocess-worker.js must run in a worker thread");
}
const { tokenizerPath } = workerData as { tokenizerPath: string | null };
const tokenizer = tokenizerPath === null ? await loadPileTokenizer() : await loadTokenizerFile(tokenizerPath);

port.on("message", (request: Request) => {
  try {
    const encoded = request.texts.map((text) => tokenizer.encode(text));
    const lengths = Uint32Array.from(encoded, (ids) => ids.length);
    const ids = new Uint32Array(lengths.reduce((sum, length) => sum + length, 0));
    let at = 0;
    for (const part of encoded) {
      ids.set(part, at);
      at += part.length;
    }
    port.postMessage({ seq: request.seq, ids, lengths }, [ids.buffer, lengths.buffer]);
  } catch (error) {
    port.postMessage({ seq: request.seq, error: (error as Error).message });
  }
});
port.postMessage({ ready: true });
