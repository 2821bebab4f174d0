import { BYTE_TO_CHAR } from "./byte-level.js";
import { TokenizerFormatError } from "./errors.js";

/** Parameters of `BytePairEncoder`. */
export interface BytePairEncoderParams {
  /** Token string (byte-level alphabet) -> id. */
  vocab: ReadonlyMap<string, number>;
  /** Merge rules in rank order (rank = index). */
  merges: ReadonlyArray<readonly [string, string]>;
  /** Use a word's own vocab entry when it has one, skipping merges (tokenizers' `ignore_merges`). */
  ignoreMerges?: boolean;
  /** For error messages: where the vocabulary came from. */
  source?: string;
}

/**
 * Byte-level BPE over one pre-tokenized word: start from one symbol per UTF-8 byte, then merge the
 * adjacent pair with the lowest merge rank (leftmost on ties) until no pair has a rank. This is the
 * order Hugging Face's heap-based `Word::merge_all` produces. Words are short, so a linear scan
 * over a cached rank per pair beats a heap; long words (a 5000-character run) stay O(n^2) cheap
 * because only the two neighbours of a merge are re-ranked.
 */
export class BytePairEncoder {
  private readonly pairRank: PairRankTable;
  private readonly rankToId: Int32Array;
  /** Id of the single-byte symbol for each byte, or -1 when the vocab lacks it. */
  private readonly byteToId = new Int32Array(256).fill(-1);
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly ignoreMerges: boolean;

  constructor(params: BytePairEncoderParams) {
    const source = params.source ?? "<object>";
    this.vocab = params.vocab;
    this.ignoreMerges = params.ignoreMerges ?? false;
    this.pairRank = new PairRankTable(params.merges.length);
    for (let b = 0; b < 256; b++) {
      this.byteToId[b] = params.vocab.get(BYTE_TO_CHAR[b] ?? "") ?? -1;
    }
    this.rankToId = new Int32Array(params.merges.length);
    params.merges.forEach(([left, right], rank) => {
      const leftId = params.vocab.get(left);
      const rightId = params.vocab.get(right);
      const mergedId = params.vocab.get(left + right);
      if (leftId === undefined || rightId === undefined || mergedId === undefined) {
        const missing = leftId === undefined ? left : rightId === undefined ? right : left + right;
        throw new TokenizerFormatError({
          source,
          field: `model.merges[${rank}]`,
          message: `merge "${left} ${right}" uses token "${missing}", which is not in model.vocab`,
        });
      }
      // Later duplicates win, as in tokenizers' HashMap collect.
      this.pairRank.set(leftId, rightId, rank);
      this.rankToId[rank] = mergedId;
    });
  }

  /**
   * Token ids of one word given as UTF-8 bytes. Bytes without a single-byte symbol in the vocab are
   * dropped, as tokenizers does for a BPE model without `unk_token`.
   */
  encodeBytes(bytes: Uint8Array, length: number, out: number[]): void {
    if (this.ignoreMerges) {
      let symbols = "";
      for (let i = 0; i < length; i++) {
        symbols += BYTE_TO_CHAR[bytes[i] as number];
      }
      const whole = this.vocab.get(symbols);
      if (whole !== undefined) {
        out.push(whole);
        return;
      }
    }
    const ids: number[] = [];
    for (let i = 0; i < length; i++) {
      const id = this.byteToId[bytes[i] as number] as number;
      if (id >= 0) {
        ids.push(id);
      }
    }
    let n = ids.length;
    if (n < 2) {
      for (let i = 0; i < n; i++) {
        out.push(ids[i] as number);
      }
      return;
    }
    // ranks[i] = merge rank of the pair (ids[i], ids[i + 1]), or Infinity.
    const ranks: number[] = new Array(n - 1);
    for (let i = 0; i < n - 1; i++) {
      ranks[i] = this.rankOf(ids[i] as number, ids[i + 1] as number);
    }
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < n - 1; i++) {
        const rank = ranks[i] as number;
        if (rank < best) {
          best = rank;
          at = i;
        }
      }
      if (at < 0) {
        break;
      }
      ids[at] = this.rankToId[best] as number;
      ids.splice(at + 1, 1);
      ranks.splice(at, 1);
      n--;
      if (at > 0) {
        ranks[at - 1] = this.rankOf(ids[at - 1] as number, ids[at] as number);
      }
      if (at < n - 1) {
        ranks[at] = this.rankOf(ids[at] as number, ids[at + 1] as number);
      }
    }
    for (let i = 0; i < n; i++) {
      out.push(ids[i] as number);
    }
  }

  private rankOf(left: number, right: number): number {
    return this.pairRank.get(left, right);
  }
}

/**
 * Open-addressing hash table from a token-id pair to its merge rank. A `Map` keyed by
 * `left * stride + right` would need keys above 2^30, which V8 stores as heap numbers; typed arrays
 * keep both construction (50k merges) and lookups allocation-free.
 */
class PairRankTable {
  private readonly mask: number;
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;

  constructor(expected: number) {
    let capacity = 16;
    while (capacity < expected * 2) {
      capacity *= 2;
    }
    this.mask = capacity - 1;
    this.lefts = new Int32Array(capacity).fill(-1);
    this.rights = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
  }

  set(left: number, right: number, rank: number): void {
    let slot = this.slotOf(left, right);
    while (this.lefts[slot] !== -1 && !(this.lefts[slot] === left && this.rights[slot] === right)) {
      slot = (slot + 1) & this.mask;
    }
    this.lefts[slot] = left;
    this.rights[slot] = right;
    this.ranks[slot] = rank;
  }

  /** The rank of the pair, or `Infinity` when the pair never merges. */
  get(left: number, right: number): number {
    let slot = this.slotOf(left, right);
    for (;;) {
      const stored = this.lefts[slot] as number;
      if (stored === -1) {
        return Infinity;
      }
      if (stored === left && this.rights[slot] === right) {
        return this.ranks[slot] as number;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private slotOf(left: number, right: number): number {
    return ((Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77)) >>> 0) & this.mask;
  }
}
