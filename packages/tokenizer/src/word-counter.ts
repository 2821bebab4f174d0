/**
 * Counting pre-tokenized words, the first pass of BPE training. This file is self-contained on
 * purpose: `createWordCounter` and `wordCountWorkerMain` are turned into source text and run in
 * worker threads (`count-words.ts`), so they may not refer to anything outside their own bodies.
 */

/** Counts of the GPT-2 split pieces of the sequences fed to it. */
export interface WordCounter {
  /** Word -> number of occurrences so far. */
  readonly counts: Map<string, number>;
  /** Counts the words of one sequence (split with the pattern as a whole). */
  addSequence(text: string): void;
  /**
   * Counts the words of UTF-8 `bytes` holding whole lines, each line one sequence that keeps its `\n`
   * (how HF tokenizers' `train_from_files` reads files).
   * @throws TypeError when the bytes are not valid UTF-8.
   */
  addLines(bytes: Uint8Array): void;
}

/** A word counter splitting with the regular expression `new RegExp(source, flags)` (must have `g`). */
export function createWordCounter(source: string, flags: string): WordCounter {
  const pattern = new RegExp(source, flags);
  const counts = new Map<string, number>();
  // ignoreBOM keeps a byte order mark as a character, as Rust's UTF-8 reading does.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const addSequence = (text: string): void => {
    const words = text.match(pattern);
    if (words === null) {
      return;
    }
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as string;
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  };
  const addLines = (bytes: Uint8Array): void => {
    const text = decoder.decode(bytes);
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf("\n", start);
      const end = newline === -1 ? text.length : newline + 1;
      addSequence(text.slice(start, end));
      start = end;
    }
  };
  return { counts, addSequence, addLines };
}

/** Messages from `count-words.ts` to a worker. */
export type WordCountRequest =
  | { type: "lines"; id: number; buffer: ArrayBuffer; length: number }
  | { type: "finish" };

/** Messages from a worker back to `count-words.ts`. */
export type WordCountReply =
  | { type: "done"; id: number }
  | { type: "error"; id: number; message: string }
  | { type: "counts"; counts: Map<string, number> };

/** Minimal view of `worker_threads.parentPort`. */
interface Port {
  on(event: "message", listener: (message: WordCountRequest) => void): void;
  postMessage(message: WordCountReply): void;
}

/** The body of a counting worker: counts the line chunks it is sent, returns its map on `finish`. */
export function wordCountWorkerMain(
  port: Port,
  data: { source: string; flags: string },
  create: typeof createWordCounter,
): void {
  const counter = create(data.source, data.flags);
  port.on("message", (message) => {
    if (message.type === "finish") {
      port.postMessage({ type: "counts", counts: counter.counts });
      return;
    }
    try {
      counter.addLines(new Uint8Array(message.buffer, 0, message.length));
      port.postMessage({ type: "done", id: message.id });
    } catch (error) {
      port.postMessage({ type: "error", id: message.id, message: (error as Error).message });
    }
  });
}
