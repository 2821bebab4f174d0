import { DataloaderError } from "./errors.js";

// MT19937 (Matsumoto–Nishimura 1998) as numpy's legacy `RandomState` runs it (numpy/random/src/mt19937
// and legacy/legacy-distributions.c). Words are kept in an Int32Array and combined with `Math.imul`
// and `>>> 0`, so the hot paths (`nextUint32`, `shuffle`) allocate nothing and never touch BigInt.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_32 = 4294967296;
/** Swap targets drawn ahead in `shuffle`. */
const BLOCK = 256;

/** The serialisable state of a `RandomState` (numpy's `get_state()[1:3]`: the 624 key words and the position). */
export interface RandomStateSnapshot {
  /** The 624 MT19937 state words, each in `[0, 2^32)`. */
  key: number[];
  /** Index of the next word to temper, in `[0, 624]` (624 = regenerate before the next draw). */
  pos: number;
}

/** Arrays `RandomState.shuffle` permutes in place. */
export type ShuffleArray = Int32Array | Uint32Array | Float64Array | BigInt64Array | number[];

/**
 * Bit-exact port of numpy's legacy `numpy.random.RandomState(seed)` for integer seeds
 * `0 <= seed < 2^32`: MT19937 seeded with `init_genrand`, bounded integers by mask rejection
 * (`random_interval`), Fisher–Yates `shuffle` and `permutation`, and 53-bit `random_sample`. This is
 * the generator GPT-NeoX uses to order Pythia's training data.
 *
 * @example
 * const rng = new RandomState(1234);
 * const order = Uint32Array.from({ length: 10 }, (_, i) => i);
 * rng.shuffle(order); // [7, 2, 9, 1, 0, 8, 4, 5, 6, 3], like numpy
 */
export class RandomState {
  private readonly mt = new Int32Array(N);
  private pos = N;
  private readonly targets = new Uint32Array(BLOCK);

  /** Seeds like `numpy.random.RandomState(seed)` (MT19937 `init_genrand`). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_32) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `RandomState seed must be an integer in [0, 2^32), got ${seed}; numpy rejects other seeds too`,
      );
    }
    const mt = this.mt;
    mt[0] = seed | 0;
    let previous = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const word = (Math.imul(1812433253, previous ^ (previous >>> 30)) + i) >>> 0;
      mt[i] = word | 0;
      previous = word;
    }
    this.pos = N;
  }

  /** Restores a generator from `getState()` output (for resuming training from a checkpoint). */
  static fromState(state: RandomStateSnapshot): RandomState {
    const { key, pos } = state;
    if (!Array.isArray(key) || key.length !== N) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `RandomState.fromState: key must hold ${N} words, got ${Array.isArray(key) ? key.length : typeof key}; pass the object getState() returned`,
      );
    }
    if (!Number.isInteger(pos) || pos < 0 || pos > N) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `RandomState.fromState: pos must be an integer in [0, ${N}], got ${pos}`,
      );
    }
    const rng = new RandomState(0);
    for (let i = 0; i < N; i++) {
      const word = key[i];
      if (typeof word !== "number" || !Number.isInteger(word) || word < 0 || word >= TWO_32) {
        throw new DataloaderError(
          "DATASET_INPUT",
          `RandomState.fromState: key[${i}] must be an integer in [0, 2^32), got ${String(word)}`,
        );
      }
      rng.mt[i] = word | 0;
    }
    rng.pos = pos;
    return rng;
  }

  /** A JSON-serialisable copy of the state (numpy's `get_state()` key and pos). */
  getState(): RandomStateSnapshot {
    return { key: Array.from(this.mt, (word) => word >>> 0), pos: this.pos };
  }

  /** The next raw 32-bit output, in `[0, 2^32)` (numpy's `mt19937_next32`). */
  nextUint32(): number {
    if (this.pos === N) {
      this.regenerate();
    }
    let y = this.mt[this.pos++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * A uniform integer in `[0, max]` exactly like numpy's legacy `random_interval`: no draw for
   * `max = 0`; otherwise draw (32-bit words, or 64-bit values made of two words **high word first**
   * when `max > 0xFFFFFFFF`), mask to the smallest `2^k - 1 >= max`, and reject values above `max`.
   * `max` may be up to `2^53 - 1`.
   */
  randomInterval(max: number): number {
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `randomInterval: max must be an integer in [0, 2^53), got ${max}`,
      );
    }
    if (max === 0) {
      return 0;
    }
    if (max <= 0xffffffff) {
      const mask = smear32(max);
      let value: number;
      do {
        value = (this.nextUint32() & mask) >>> 0;
      } while (value > max);
      return value;
    }
    // 64-bit path: mask = (smear(high word) · 2^32) | 0xFFFFFFFF; every value stays below 2^53.
    const highMask = smear32(Math.floor(max / TWO_32));
    let value: number;
    do {
      const high = (this.nextUint32() & highMask) >>> 0;
      const low = this.nextUint32();
      value = high * TWO_32 + low;
    } while (value > max);
    return value;
  }

  /**
   * Shuffles `array` in place exactly like numpy's legacy `RandomState.shuffle` on a 1-D array: for
   * `i` from `n - 1` down to `1`, swap elements `i` and `randomInterval(i)`. The element type does not
   * change the draws. 8-byte elements are swapped as raw bits.
   */
  shuffle(array: ShuffleArray): void {
    const n = array.length;
    if (n <= 1) {
      return;
    }
    if (Array.isArray(array)) {
      this.shuffleNumbers(array);
    } else if (array.BYTES_PER_ELEMENT === 4) {
      this.shuffleWords(new Int32Array(array.buffer, array.byteOffset, n), 1);
    } else {
      this.shuffleWords(new Int32Array(array.buffer, array.byteOffset, 2 * n), 2);
    }
  }

  /**
   * `numpy.random.RandomState.permutation(n)`: `0..n-1` shuffled. Returned as a `Uint32Array`
   * (numpy returns int64; the values are the same).
   */
  permutation(n: number): Uint32Array {
    if (!Number.isSafeInteger(n) || n < 0 || n > TWO_32) {
      throw new DataloaderError("DATASET_INPUT", `permutation: n must be an integer in [0, 2^32], got ${n}`);
    }
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = i;
    }
    this.shuffle(out);
    return out;
  }

  /** A double in `[0, 1)` with 53 random bits, like `random_sample()`: `((a >> 5)·2^26 + (b >> 6)) / 2^53`. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Regenerates all 624 words (the standard MT19937 twist). */
  private regenerate(): void {
    const mt = this.mt;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
      mt[kk] = (mt[kk + M] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      const y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
      mt[kk] = (mt[kk + M - N] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = ((mt[N - 1] as number) & UPPER_MASK) | ((mt[0] as number) & LOWER_MASK);
    mt[N - 1] = (mt[M - 1] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /**
   * Fisher–Yates over `words`, elements of `width` (1 or 2) Int32 words each. The 32-bit draw is
   * inlined: the state array and position live in locals for the whole loop.
   */
  private shuffleWords(words: Int32Array, width: 1 | 2): void {
    let i = words.length / width - 1;
    // Indices above 2^32 - 1 need the 64-bit path (only reachable for > 2^32 elements).
    for (; i > 0xffffffff; i--) {
      swapWords(words, width, i, this.randomInterval(i));
    }
    const mt = this.mt;
    const targets = this.targets;
    let pos = this.pos;
    let mask = smear32(i);
    while (i > 0) {
      // Draw a block of swap targets first, then swap: the draws do not depend on the array, and
      // keeping the branchy rejection loop apart from the random memory accesses lets the CPU
      // overlap the cache misses of consecutive swaps.
      const block = Math.min(i, BLOCK);
      for (let k = 0; k < block; k++) {
        const bound = i - k;
        if (bound <= mask >>> 1) {
          mask >>>= 1;
        }
        let j: number;
        do {
          if (pos === N) {
            this.regenerate();
            pos = 0;
          }
          let y = mt[pos++] as number;
          y ^= y >>> 11;
          y ^= (y << 7) & 0x9d2c5680;
          y ^= (y << 15) & 0xefc60000;
          y ^= y >>> 18;
          j = (y & mask) >>> 0;
        } while (j > bound);
        targets[k] = j;
      }
      if (width === 1) {
        for (let k = 0; k < block; k++) {
          const a = i - k;
          const b = targets[k] as number;
          const t = words[a] as number;
          words[a] = words[b] as number;
          words[b] = t;
        }
      } else {
        for (let k = 0; k < block; k++) {
          swapWords(words, 2, i - k, targets[k] as number);
        }
      }
      i -= block;
    }
    this.pos = pos;
  }

  private shuffleNumbers(array: number[]): void {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.randomInterval(i);
      const t = array[i] as number;
      array[i] = array[j] as number;
      array[j] = t;
    }
  }
}

/** Smallest `2^k - 1 >= value` for `0 <= value < 2^32`, as an unsigned number. */
function smear32(value: number): number {
  let mask = value >>> 0;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  return mask >>> 0;
}

function swapWords(words: Int32Array, width: 1 | 2, i: number, j: number): void {
  const a = i * width;
  const b = j * width;
  for (let k = 0; k < width; k++) {
    const t = words[a + k] as number;
    words[a + k] = words[b + k] as number;
    words[b + k] = t;
  }
}
