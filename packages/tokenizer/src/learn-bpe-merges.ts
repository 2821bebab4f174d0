/**
 * The merge-learning half of BPE training, written to give exactly the vocabulary and merges of
 * Hugging Face tokenizers' `BpeTrainer` (0.22, `tokenizers/src/models/bpe/trainer.rs`), ties included.
 *
 * The rules this reproduces (see docs/decisions/0015-bpe-trainer-like-hf.md):
 * - ids: special tokens first (in the order given), then the alphabet sorted by code point, then one
 *   id per new merged string, in merge order;
 * - the pair to merge next has the highest count; equal counts go to the smaller `(left id, right id)`;
 * - counts are updated incrementally from each merged word's neighbours (the merged pair's own count
 *   is never decremented, as in HF), and a priority queue holds `(count, pair, words)` entries that are
 *   re-queued with the current count when stale;
 * - a merge that re-forms an existing string reuses its id; a pair merged twice keeps its last rank.
 */
import { BYTE_TO_CHAR } from "./byte-level.js";

/** Parameters of `learnBpeMerges`. */
export interface LearnBpeMergesParams {
  /**
   * Pre-tokenized words (GPT-2 split pieces of the raw text, not yet byte-level mapped) and how often
   * each occurs.
   */
  wordCounts: ReadonlyMap<string, number>;
  /** Stop when the vocabulary (special tokens included) reaches this size. */
  vocabSize: number;
  /** Stop when the best pair occurs fewer times than this. */
  minFrequency: number;
  /** Tokens given the first ids, in order. */
  specialTokens: readonly string[];
  /** Characters added to the alphabet even when absent from the corpus (first code point of each string). */
  initialAlphabet: readonly string[];
  /** Keep at most this many alphabet characters (the most frequent; initial-alphabet ones first). */
  limitAlphabet?: number;
}

/** Progress of `learnBpeMerges`, yielded every few hundred merges. */
export interface MergeProgress {
  type: "merge-progress";
  /** Merges learned so far. */
  merges: number;
  /** Current vocabulary size (special tokens and alphabet included). */
  vocabSize: number;
  /** The vocabulary size training stops at. */
  targetVocabSize: number;
}

/** A learned byte-level BPE model. */
export interface BpeModel {
  /** Token -> id; iteration order is id order (ids are 0..size-1). */
  vocab: Map<string, number>;
  /** Merges in rank order, as `[left, right]` token strings. */
  merges: Array<[string, string]>;
}

const PROGRESS_EVERY = 500;

/**
 * Learns BPE merges over counted words, HF-exactly; a generator that yields progress and returns the model.
 * @example
 * const steps = learnBpeMerges({ wordCounts, vocabSize: 30000, minFrequency: 0, specialTokens: [], initialAlphabet: [] });
 * let step = steps.next();
 * while (!step.done) step = steps.next(); // step.value: progress events, then the model
 * const { vocab, merges } = step.value;
 */
export function* learnBpeMerges(params: LearnBpeMergesParams): Generator<MergeProgress, BpeModel> {
  if (params.vocabSize > PAIR_KEY_SHIFT) {
    throw new RangeError(
      `learnBpeMerges: vocabSize ${params.vocabSize} is above the supported ${PAIR_KEY_SHIFT}`,
    );
  }
  const tokens: string[] = [];
  const tokenToId = new Map<string, number>();
  const addToken = (token: string): number => {
    let id = tokenToId.get(token);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(token);
      tokenToId.set(token, id);
    }
    return id;
  };
  for (const token of params.specialTokens) {
    addToken(token);
  }

  const words = encodeWords(params.wordCounts);
  for (const codePoint of alphabet(words, params)) {
    addToken(String.fromCodePoint(codePoint));
  }
  // Byte -> symbol id; -1 for bytes left out of the alphabet (they are dropped from words, as in HF).
  const byteToId = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    byteToId[byte] = tokenToId.get(BYTE_TO_CHAR[byte] as string) ?? -1;
  }
  const { symbols, wordStart, wordLength } = toSymbols(words, byteToId);
  const wordCount = words.counts;
  const numberOfWords = wordCount.length;

  // Initial pair counts and, per pair, the words it occurs in.
  const pairs = new PairTable();
  const positions: number[][] = [];
  for (let word = 0; word < numberOfWords; word++) {
    const start = wordStart[word] as number;
    const end = start + (wordLength[word] as number);
    const count = wordCount[word] as number;
    for (let i = start; i + 1 < end; i++) {
      const pair = pairs.intern(symbols[i] as number, symbols[i + 1] as number);
      pairs.count[pair] = (pairs.count[pair] as number) + count;
      const list = positions[pair];
      if (list === undefined) {
        positions[pair] = [word];
      } else if (list[list.length - 1] !== word) {
        list.push(word);
      }
    }
  }
  // Queue entries: the pair and the words to merge it in (HF's `Merge`); the heap holds their ids.
  const entryWords: Array<number[] | undefined> = [];
  const entryPair: number[] = [];
  const freeEntries: number[] = [];
  const newEntry = (pair: number, where: number[]): number => {
    const entry = freeEntries.pop() ?? entryWords.length;
    entryWords[entry] = where;
    entryPair[entry] = pair;
    return entry;
  };
  const pairKey = (pair: number) =>
    (pairs.left[pair] as number) * PAIR_KEY_SHIFT + (pairs.right[pair] as number);
  const queue = new MergeQueue();
  for (let pair = 0; pair < pairs.size; pair++) {
    const count = pairs.count[pair] as number;
    if (count > 0) {
      queue.add(count, pairKey(pair), newEntry(pair, positions[pair] as number[]));
    }
  }
  positions.length = 0;
  queue.heapify();

  const mergeLeft: number[] = [];
  const mergeRight: number[] = [];
  let updates = new Map<number, number[]>();
  const vocabSize = params.vocabSize;
  const minFrequency = params.minFrequency;

  // Applies a neighbour change of merging in `word`: what HF's `Word::merge` returns, applied at once.
  const change = (left: number, right: number, delta: number, word: number) => {
    const pair = pairs.intern(left, right);
    pairs.count[pair] = (pairs.count[pair] as number) + delta * (wordCount[word] as number);
    if (delta > 0) {
      const list = updates.get(pair);
      if (list === undefined) {
        updates.set(pair, [word]);
      } else if (list[list.length - 1] !== word) {
        list.push(word);
      }
    }
  };

  // Merges (left, right) -> merged in each of `where`, left to right and non-overlapping, as HF's
  // `Word::merge` does, applying the neighbour changes it reports.
  const mergeInWords = (where: number[], left: number, right: number, merged: number): void => {
    for (let k = 0; k < where.length; k++) {
      const word = where[k] as number;
      const start = wordStart[word] as number;
      const length = wordLength[word] as number;
      const end = start + length;
      let read = start;
      let write = start;
      while (read < end) {
        const symbol = symbols[read] as number;
        if (symbol === left && read + 1 < end && symbols[read + 1] === right) {
          if (write > start) {
            const previous = symbols[write - 1] as number;
            change(previous, left, -1, word);
            change(previous, merged, 1, word);
          }
          symbols[write++] = merged;
          if (read + 2 < end) {
            const next = symbols[read + 2] as number;
            change(right, next, -1, word);
            change(merged, next, 1, word);
          }
          read += 2;
        } else {
          symbols[write++] = symbol;
          read++;
        }
      }
      wordLength[word] = write - start;
    }
  };

  while (tokens.length < vocabSize) {
    if (queue.size === 0) {
      break;
    }
    const count = queue.topCount();
    const entry = queue.pop();
    const pair = entryPair[entry] as number;
    const current = pairs.count[pair] as number;
    if (count !== current) {
      queue.push(current, pairKey(pair), entry);
      continue;
    }
    if (count < 1 || minFrequency > count) {
      break;
    }
    const left = pairs.left[pair] as number;
    const right = pairs.right[pair] as number;
    const merged = addToken((tokens[left] as string) + (tokens[right] as string));
    mergeLeft.push(left);
    mergeRight.push(right);

    updates = new Map();
    const where = entryWords[entry] as number[];
    entryWords[entry] = undefined;
    freeEntries.push(entry);
    mergeInWords(where, left, right, merged);
    for (const [changed, list] of updates) {
      const changedCount = pairs.count[changed] as number;
      if (changedCount > 0) {
        queue.push(changedCount, pairKey(changed), newEntry(changed, list));
      }
    }
    if (mergeLeft.length % PROGRESS_EVERY === 0) {
      yield {
        type: "merge-progress",
        merges: mergeLeft.length,
        vocabSize: tokens.length,
        targetVocabSize: vocabSize,
      };
    }
  }
  yield {
    type: "merge-progress",
    merges: mergeLeft.length,
    vocabSize: tokens.length,
    targetVocabSize: vocabSize,
  };

  // A pair merged more than once keeps the rank of its last merge (HF stores merges in a map).
  const lastRank = new Map<number, number>();
  for (let rank = 0; rank < mergeLeft.length; rank++) {
    lastRank.set((mergeLeft[rank] as number) * PAIR_KEY_SHIFT + (mergeRight[rank] as number), rank);
  }
  const merges: Array<[string, string]> = [];
  for (let rank = 0; rank < mergeLeft.length; rank++) {
    const left = mergeLeft[rank] as number;
    const right = mergeRight[rank] as number;
    if (lastRank.get(left * PAIR_KEY_SHIFT + right) === rank) {
      merges.push([tokens[left] as string, tokens[right] as string]);
    }
  }
  return { vocab: tokenToId, merges };
}

/** Distinct words as UTF-8 bytes, back to back, with their counts. */
interface EncodedWords {
  bytes: Uint8Array;
  /** Word i is `bytes[offsets[i], offsets[i + 1])`. */
  offsets: Int32Array;
  counts: Float64Array;
}

function encodeWords(wordCounts: ReadonlyMap<string, number>): EncodedWords {
  const encoder = new TextEncoder();
  let bytes = new Uint8Array(1 << 16);
  const offsets = new Int32Array(wordCounts.size + 1);
  const counts = new Float64Array(wordCounts.size);
  let at = 0;
  let index = 0;
  for (const [word, count] of wordCounts) {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    if (at + word.length * 3 > bytes.length) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, at + word.length * 3));
      grown.set(bytes.subarray(0, at));
      bytes = grown;
    }
    at += encoder.encodeInto(word, bytes.subarray(at)).written;
    counts[index] = count;
    offsets[++index] = at;
  }
  return { bytes: bytes.subarray(0, at), offsets, counts };
}

/** HF's `compute_alphabet`: the corpus characters plus the initial alphabet, limited, sorted by code point. */
function alphabet(words: EncodedWords, params: LearnBpeMergesParams): number[] {
  const byteCounts = new Float64Array(256);
  for (let word = 0; word < words.counts.length; word++) {
    const count = words.counts[word] as number;
    for (let i = words.offsets[word] as number; i < (words.offsets[word + 1] as number); i++) {
      const byte = words.bytes[i] as number;
      byteCounts[byte] = (byteCounts[byte] as number) + count;
    }
  }
  const counts = new Map<number, number>();
  for (let byte = 0; byte < 256; byte++) {
    if ((byteCounts[byte] as number) > 0) {
      counts.set((BYTE_TO_CHAR[byte] as string).charCodeAt(0), byteCounts[byte] as number);
    }
  }
  for (const char of params.initialAlphabet) {
    const codePoint = char.codePointAt(0);
    if (codePoint !== undefined) {
      counts.set(codePoint, Infinity);
    }
  }
  let kept = [...counts];
  const toRemove = params.limitAlphabet === undefined ? 0 : Math.max(0, kept.length - params.limitAlphabet);
  if (toRemove > 0) {
    // Least frequent first; HF's order among equal counts is unspecified, here it is by code point.
    kept.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    kept = kept.slice(toRemove);
  }
  return kept.map(([codePoint]) => codePoint).sort((a, b) => a - b);
}

/** Words as symbol ids (bytes outside the alphabet dropped), back to back in one array. */
function toSymbols(words: EncodedWords, byteToId: Int32Array) {
  const numberOfWords = words.counts.length;
  const symbols = new Int32Array(words.bytes.length);
  const wordStart = new Int32Array(numberOfWords);
  const wordLength = new Int32Array(numberOfWords);
  let at = 0;
  for (let word = 0; word < numberOfWords; word++) {
    wordStart[word] = at;
    for (let i = words.offsets[word] as number; i < (words.offsets[word + 1] as number); i++) {
      const id = byteToId[words.bytes[i] as number] as number;
      if (id >= 0) {
        symbols[at++] = id;
      }
    }
    wordLength[word] = at - (wordStart[word] as number);
  }
  return { symbols, wordStart, wordLength };
}

/** Pair (left id, right id) -> dense pair index, with a count per pair; open addressing on typed arrays. */
class PairTable {
  size = 0;
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  count = new Float64Array(1024);
  private slots = new Int32Array(2048).fill(-1);
  private mask = 2047;

  /** Index of pair (left, right), created with count 0 when new. */
  intern(left: number, right: number): number {
    let slot = hashPair(left, right) & this.mask;
    for (;;) {
      const pair = this.slots[slot] as number;
      if (pair === -1) {
        break;
      }
      if (this.left[pair] === left && this.right[pair] === right) {
        return pair;
      }
      slot = (slot + 1) & this.mask;
    }
    const pair = this.size++;
    if (pair === this.left.length) {
      this.left = grow(this.left);
      this.right = grow(this.right);
      const count = new Float64Array(this.count.length * 2);
      count.set(this.count);
      this.count = count;
    }
    this.left[pair] = left;
    this.right[pair] = right;
    this.slots[slot] = pair;
    if (this.size * 2 > this.mask) {
      this.rehash();
    }
    return pair;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    this.mask = this.slots.length - 1;
    for (let pair = 0; pair < this.size; pair++) {
      let slot = hashPair(this.left[pair] as number, this.right[pair] as number) & this.mask;
      while (this.slots[slot] !== -1) {
        slot = (slot + 1) & this.mask;
      }
      this.slots[slot] = pair;
    }
  }
}

function hashPair(left: number, right: number): number {
  const h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77);
  return (h ^ (h >>> 15)) >>> 0;
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}

/** `left * PAIR_KEY_SHIFT + right` orders pairs as HF does (left id, then right id); exact below 2^53. */
const PAIR_KEY_SHIFT = 2 ** 24;

/**
 * Max-heap of queued merges: higher count first, then the smaller pair key. Keys live in typed arrays
 * beside the entry ids, so comparisons touch no objects.
 */
class MergeQueue {
  size = 0;
  private counts = new Float64Array(1024);
  private keys = new Float64Array(1024);
  private entries = new Int32Array(1024);

  /** Appends without restoring the heap order; call `heapify` afterwards. */
  add(count: number, key: number, entry: number): void {
    if (this.size === this.counts.length) {
      this.grow();
    }
    this.counts[this.size] = count;
    this.keys[this.size] = key;
    this.entries[this.size] = entry;
    this.size++;
  }

  heapify(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) {
      this.siftDown(i, this.counts[i] as number, this.keys[i] as number, this.entries[i] as number);
    }
  }

  push(count: number, key: number, entry: number): void {
    if (this.size === this.counts.length) {
      this.grow();
    }
    const counts = this.counts;
    const keys = this.keys;
    const entries = this.entries;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentCount = counts[parent] as number;
      if (count < parentCount || (count === parentCount && key >= (keys[parent] as number))) {
        break;
      }
      counts[i] = parentCount;
      keys[i] = keys[parent] as number;
      entries[i] = entries[parent] as number;
      i = parent;
    }
    counts[i] = count;
    keys[i] = key;
    entries[i] = entry;
  }

  /** Count of the entry `pop` returns next. */
  topCount(): number {
    return this.counts[0] as number;
  }

  /** Removes the top entry and returns its id; the queue must not be empty. */
  pop(): number {
    const top = this.entries[0] as number;
    const last = --this.size;
    if (last > 0) {
      this.siftDown(0, this.counts[last] as number, this.keys[last] as number, this.entries[last] as number);
    }
    return top;
  }

  /** Places (count, key, entry) at `index` or below, moving better children up. */
  private siftDown(index: number, count: number, key: number, entry: number): void {
    const counts = this.counts;
    const keys = this.keys;
    const entries = this.entries;
    const length = this.size;
    let i = index;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) {
        break;
      }
      let childCount = counts[child] as number;
      let childKey = keys[child] as number;
      if (child + 1 < length) {
        const otherCount = counts[child + 1] as number;
        const otherKey = keys[child + 1] as number;
        if (otherCount > childCount || (otherCount === childCount && otherKey < childKey)) {
          child++;
          childCount = otherCount;
          childKey = otherKey;
        }
      }
      if (childCount < count || (childCount === count && childKey >= key)) {
        break;
      }
      counts[i] = childCount;
      keys[i] = childKey;
      entries[i] = entries[child] as number;
      i = child;
    }
    counts[i] = count;
    keys[i] = key;
    entries[i] = entry;
  }

  private grow(): void {
    const counts = new Float64Array(this.counts.length * 2);
    counts.set(this.counts);
    this.counts = counts;
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const entries = new Int32Array(this.entries.length * 2);
    entries.set(this.entries);
    this.entries = entries;
  }
}
