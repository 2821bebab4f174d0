// A small seeded generator for randomized tests (kill points, fuzz picks): a failing sequence can be
// replayed from the seed its message prints.

/** mulberry32: floats in [0, 1) from a 32-bit seed, the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The seed of a randomized suite: `env[name]` when set (to replay a failure), otherwise a fresh one. */
export function testSeed(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const given = env[name];
  return given === undefined || given === "" ? Math.floor(Math.random() * 2 ** 31) : Number(given);
}
