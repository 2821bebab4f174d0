/**
 * Counting pre-tokenized words, the first pass of BPE training. This file is self-contained on
 * purpose: `createWordCounter` and `wordCountWorkerMain` are turned into source text and run in
 * worker threads (`count-words.ts`), so they may not refer to anything outside their own bodies.
 */

/** Counts of the GPT-2 split pieces of the sequences fed to it. */
export interface WordCounter {
  /** Word -> number of occurrences so far (a new map each call). */
  counts(): Map<string, number>;
  /** Counts the words of one sequence (split with the pattern as a whole). */
  addSequence(text: string): void;
  /**
   * Counts the words of UTF-8 `bytes` holding whole lines, each line one sequence that keeps its `\n`
   * (how HF tokenizers' `train_from_files` reads files).
   * @throws TypeError when the bytes are not valid UTF-8.
   */
  addLines(bytes: Uint8Array): void;
}

/**
 * A word counter splitting with the GPT-2 pattern, given as `new RegExp(source, flags)` (with `g`). Lines
 * made only of ASCII take a hand-written scanner that splits exactly as the pattern does (tested against
 * it); any other sequence goes through the regular expression.
 */
export function createWordCounter(source: string, flags: string): WordCounter {
  const pattern = new RegExp(source, flags);
  // Words in an open-addressing table keyed by a hash of the characters, so that counting a word seen
  // before compares characters in place: no substring, no string hashing, no get-then-set.
  let words: Array<string | undefined> = new Array<string | undefined>(1 << 12).fill(undefined);
  let hashes = new Int32Array(1 << 12);
  let wordCounts = new Float64Array(1 << 12);
  let mask = (1 << 12) - 1;
  let size = 0;
  // ignoreBOM keeps a byte order mark as a character, as Rust's UTF-8 reading does.
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  // ASCII classes in the pattern's terms: 1 letter (\p{L}), 2 digit (\p{N}), 3 white space, 0 other.
  const LETTER = 1;
  const DIGIT = 2;
  const SPACE = 3;
  const classes = new Uint8Array(128);
  for (let code = 0; code < 128; code++) {
    const char = String.fromCharCode(code);
    classes[code] = /[A-Za-z]/.test(char)
      ? LETTER
      : /[0-9]/.test(char)
        ? DIGIT
        : /[\t-\r ]/.test(char)
          ? SPACE
          : 0;
  }
  const grow = (): void => {
    const oldWords = words;
    const oldHashes = hashes;
    const oldCounts = wordCounts;
    words = new Array<string | undefined>(oldWords.length * 2).fill(undefined);
    hashes = new Int32Array(oldWords.length * 2);
    wordCounts = new Float64Array(oldWords.length * 2);
    mask = oldWords.length * 2 - 1;
    for (let slot = 0; slot < oldWords.length; slot++) {
      if (oldWords[slot] !== undefined) {
        let to = (oldHashes[slot] as number) & mask;
        while (words[to] !== undefined) {
          to = (to + 1) & mask;
        }
        words[to] = oldWords[slot];
        hashes[to] = oldHashes[slot] as number;
        wordCounts[to] = oldCounts[slot] as number;
      }
    }
  };
  /** Counts `text[start, end)` once. */
  const add = (text: string, start: number, end: number): void => {
    let hash = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) {
      hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    }
    const length = end - start;
    let slot = hash & mask;
    for (;;) {
      const word = words[slot];
      if (word === undefined) {
        break;
      }
      if (hashes[slot] === hash && word.length === length) {
        let same = true;
        for (let i = 0; i < length; i++) {
          if (word.charCodeAt(i) !== text.charCodeAt(start + i)) {
            same = false;
            break;
          }
        }
        if (same) {
          wordCounts[slot] = (wordCounts[slot] as number) + 1;
          return;
        }
      }
      slot = (slot + 1) & mask;
    }
    words[slot] = text.slice(start, end);
    hashes[slot] = hash;
    wordCounts[slot] = 1;
    if (++size * 2 > mask) {
      grow();
    }
  };
  const counts = (): Map<string, number> => {
    const map = new Map<string, number>();
    for (let slot = 0; slot < words.length; slot++) {
      const word = words[slot];
      if (word !== undefined) {
        map.set(word, wordCounts[slot] as number);
      }
    }
    return map;
  };
  const addWithPattern = (text: string): void => {
    const matches = text.match(pattern);
    if (matches === null) {
      return;
    }
    for (let i = 0; i < matches.length; i++) {
      const word = matches[i] as string;
      add(word, 0, word.length);
    }
  };
  /** True when `text[from, to)` is all ASCII. */
  const isAscii = (text: string, from: number, to: number): boolean => {
    for (let i = from; i < to; i++) {
      if (text.charCodeAt(i) >= 128) {
        return false;
      }
    }
    return true;
  };
  /** Counts the words of the ASCII sequence `text[from, length)`: the pattern's alternatives in order. */
  const addAscii = (text: string, from: number, length: number): void => {
    let i = from;
    while (i < length) {
      const code = text.charCodeAt(i);
      // 's 't 're 've 'm 'll 'd
      if (code === 0x27 && i + 1 < length) {
        const next = text.charCodeAt(i + 1);
        if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) {
          add(text, i, i + 2);
          i += 2;
          continue;
        }
        if (i + 2 < length) {
          const third = text.charCodeAt(i + 2);
          if (
            (next === 0x72 && third === 0x65) ||
            (next === 0x76 && third === 0x65) ||
            (next === 0x6c && third === 0x6c)
          ) {
            add(text, i, i + 3);
            i += 3;
            continue;
          }
        }
      }
      // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
      const start = i;
      let first = i;
      if (code === 0x20 && i + 1 < length && classes[text.charCodeAt(i + 1)] !== SPACE) {
        first = i + 1;
      }
      const kind = classes[text.charCodeAt(first)] as number;
      if (kind !== SPACE) {
        let end = first + 1;
        while (end < length && classes[text.charCodeAt(end)] === kind) {
          end++;
        }
        add(text, start, end);
        i = end;
        continue;
      }
      // `\s+(?!\S)` then `\s+`: a run of white space, less its last character when a non-space follows
      // and the run is longer than one.
      let end = i + 1;
      while (end < length && classes[text.charCodeAt(end)] === SPACE) {
        end++;
      }
      if (end < length && end - i > 1) {
        end--;
      }
      add(text, start, end);
      i = end;
    }
  };
  const addSequence = (text: string): void => {
    if (isAscii(text, 0, text.length)) {
      addAscii(text, 0, text.length);
    } else {
      addWithPattern(text);
    }
  };
  const addLines = (bytes: Uint8Array): void => {
    const text = decoder.decode(bytes);
    // As many UTF-16 units as bytes: every byte was ASCII (a multi-byte character gives fewer units).
    const allAscii = text.length === bytes.length;
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf("\n", start);
      const end = newline === -1 ? text.length : newline + 1;
      if (allAscii || isAscii(text, start, end)) {
        addAscii(text, start, end);
      } else {
        addWithPattern(text.slice(start, end));
      }
      start = end;
    }
  };
  return { counts, addSequence, addLines };
}

/** Messages from `count-words.ts` to a worker. */
export type WordCountRequest =
  { type: "lines"; id: number; buffer: ArrayBuffer; length: number } | { type: "finish" };

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
      port.postMessage({ type: "counts", counts: counter.counts() });
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
