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
 * const model = drainSync(learnBpeMerges({ wordCounts, vocabSize: 30000, minFrequency: 0, specialTokens: [], initialAlphabet: [] }));
 */
export function* learnBpeMerges(params: LearnBpeMergesParams): Generator<MergeProgress, BpeModel> {
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
  const queue = new MergeQueue();
  for (let pair = 0; pair < pairs.size; pair++) {
    const count = pairs.count[pair] as number;
    if (count > 0) {
      queue.add(count, pairs.left[pair] as number, pairs.right[pair] as number, pair, positions[pair] as number[]);
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

  while (tokens.length < vocabSize) {
    const top = queue.pop();
    if (top === undefined) {
      break;
    }
    const current = pairs.count[top.pair] as number;
    if (top.count !== current) {
      top.count = current;
      queue.push(top);
      continue;
    }
    if (top.count < 1 || minFrequency > top.count) {
      break;
    }
    const left = top.left;
    const right = top.right;
    const merged = addToken((tokens[left] as string) + (tokens[right] as string));
    mergeLeft.push(left);
    mergeRight.push(right);

    updates = new Map();
    const where = top.words;
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
    for (const [pair, list] of updates) {
      const count = pairs.count[pair] as number;
      if (count > 0) {
        queue.push(new MergeEntry(count, pairs.left[pair] as number, pairs.right[pair] as number, pair, list));
      }
    }
    if (mergeLeft.length % PROGRESS_EVERY === 0) {
      yield { type: "merge-progress", merges: mergeLeft.length, vocabSize: tokens.length, targetVocabSize: vocabSize };
    }
  }
  yield { type: "merge-progress", merges: mergeLeft.length, vocabSize: tokens.length, targetVocabSize: vocabSize };

  // A pair merged more than once keeps the rank of its last merge (HF stores merges in a map).
  const lastRank = new Map<number, number>();
  for (let rank = 0; rank < mergeLeft.length; rank++) {
    lastRank.set((mergeLeft[rank] as number) * 0x1000000 + (mergeRight[rank] as number), rank);
  }
  const merges: Array<[string, string]> = [];
  for (let rank = 0; rank < mergeLeft.length; rank++) {
    const left = mergeLeft[rank] as number;
    const right = mergeRight[rank] as number;
    if (lastRank.get(left * 0x1000000 + right) === rank) {
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

/** HF's `Merge`: a queued pair with the count it had when queued and the words to merge it in. */
class MergeEntry {
  constructor(
    public count: number,
    readonly left: number,
    readonly right: number,
    readonly pair: number,
    readonly words: number[],
  ) {}
}

/** Max-heap of merges: higher count first, then the smaller (left, right). */
class MergeQueue {
  private readonly heap: MergeEntry[] = [];

  /** Appends without restoring the heap order; call `heapify` afterwards. */
  add(count: number, left: number, right: number, pair: number, words: number[]): void {
    this.heap.push(new MergeEntry(count, left, right, pair, words));
  }

  heapify(): void {
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) {
      this.siftDown(i);
    }
  }

  push(entry: MergeEntry): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent] as MergeEntry;
      if (!before(entry, above)) {
        break;
      }
      heap[i] = above;
      i = parent;
    }
    heap[i] = entry;
  }

  pop(): MergeEntry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top !== undefined && last !== undefined && heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const entry = heap[index] as MergeEntry;
    let i = index;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) {
        break;
      }
      if (child + 1 < length && before(heap[child + 1] as MergeEntry, heap[child] as MergeEntry)) {
        child++;
      }
      if (!before(heap[child] as MergeEntry, entry)) {
        break;
      }
      heap[i] = heap[child] as MergeEntry;
      i = child;
    }
    heap[i] = entry;
  }
}

/** True when `a` pops before `b`. */
function before(a: MergeEntry, b: MergeEntry): boolean {
  if (a.count !== b.count) {
    return a.count > b.count;
  }
  if (a.left !== b.left) {
    return a.left < b.left;
  }
  return a.right < b.right;
}
