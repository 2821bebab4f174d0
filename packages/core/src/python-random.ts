/**
 * CPython's `random.Random` (MT19937), bit-exact for what lm-evaluation-harness uses: `seed(int)`,
 * `random()`, `getrandbits(k ≤ 32)`, `_randbelow`, `shuffle`, `sample` and `choices` (unweighted).
 * References: CPython `Modules/_randommodule.c` and `Lib/random.py` (3.8–3.12 agree on these paths).
 */

const N = 624;
const M = 397;

/** A CPython-compatible Mersenne Twister. */
export class PythonRandom {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;

  /** `random.Random(seed)` for a non-negative integer seed. */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** `rnd.seed(n)` for a non-negative integer `n` (CPython hashes the absolute value into 32-bit words). */
  seed(n: number | bigint): void {
    let value = BigInt(n);
    if (value < 0n) {
      value = -value;
    }
    const key: number[] = [];
    do {
      key.push(Number(value & 0xffffffffn));
      value >>= 32n;
    } while (value > 0n);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] as number;
      const x = (prev ^ (prev >>> 30)) >>> 0;
      // 1812433253 * x + i, modulo 2^32, without losing precision.
      mt[i] = (Math.imul(1812433253, x) + i) >>> 0;
    }
    this.index = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] as number;
      const x = (prev ^ (prev >>> 30)) >>> 0;
      mt[i] = (((mt[i] as number) ^ Math.imul(x, 1664525)) + (key[j] as number) + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
      if (j >= key.length) {
        j = 0;
      }
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] as number;
      const x = (prev ^ (prev >>> 30)) >>> 0;
      mt[i] = (((mt[i] as number) ^ Math.imul(x, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** The next 32-bit output (`genrand_uint32`). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = ((mt[kk] as number) & 0x80000000) | ((mt[kk + 1] as number) & 0x7fffffff);
        mt[kk] = ((mt[kk + M] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
      }
      for (; kk < N - 1; kk++) {
        const y = ((mt[kk] as number) & 0x80000000) | ((mt[kk + 1] as number) & 0x7fffffff);
        mt[kk] = ((mt[kk + (M - N)] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
      }
      const y = ((mt[N - 1] as number) & 0x80000000) | ((mt[0] as number) & 0x7fffffff);
      mt[N - 1] = ((mt[M - 1] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
      this.index = 0;
    }
    let y = mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random()`: a double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `getrandbits(k)` for 1 ≤ k ≤ 32. */
  getrandbits(k: number): number {
    return this.nextUint32() >>> (32 - k);
  }

  /** `_randbelow(n)` (the getrandbits rejection sampler) for 1 ≤ n ≤ 2^32. */
  randbelow(n: number): number {
    const k = Math.floor(Math.log2(n)) + 1; // n.bit_length()
    let r = this.getrandbits(k);
    while (r >= n) {
      r = this.getrandbits(k);
    }
    return r;
  }

  /** `shuffle(x)` in place. */
  shuffle<T>(x: T[]): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const tmp = x[i] as T;
      x[i] = x[j] as T;
      x[j] = tmp;
    }
  }

  /** `sample(population, k)`: CPython's pool (small n) or set-rejection (large n) algorithm. */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (k < 0 || k > n) {
      throw new RangeError(`sample larger than population or is negative (k=${k}, n=${n})`);
    }
    const result: T[] = new Array<T>(k);
    let setsize = 21;
    if (k > 5) {
      setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4));
    }
    if (n <= setsize) {
      const pool = [...population];
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result[i] = pool[j] as T;
        pool[j] = pool[n - i - 1] as T;
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) {
          j = this.randbelow(n);
        }
        selected.add(j);
        result[i] = population[j] as T;
      }
    }
    return result;
  }

  /** `choices(population, k=k)` without weights: `population[floor(random() * n)]`, k times. */
  choices<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    const out: T[] = new Array<T>(k);
    for (let i = 0; i < k; i++) {
      out[i] = population[Math.floor(this.random() * n)] as T;
    }
    return out;
  }
}
