import type { GPTNeoXConfig } from "./config.js";
import type { RandomNormal } from "./random-normal.js";

type InitMethod = GPTNeoXConfig["initMethod"];

/** The std of a GPT-NeoX init method (`megatron/model/init_functions.py`). */
export function initStd(method: InitMethod, config: GPTNeoXConfig): number {
  const d = config.hiddenSize;
  const L = config.numLayers;
  switch (method) {
    case "normal":
      return config.initializerRange;
    case "scaled_normal":
      return config.initializerRange / Math.sqrt(2 * L);
    case "small_init":
      return Math.sqrt(2 / (5 * d));
    case "wang_init":
      return 2 / (L * Math.sqrt(d));
  }
}

/** Fills `out` with N(0, std) draws from a seeded generator (deterministic across runs and backends). */
export function fillNormal(out: Float32Array, std: number, random: RandomNormal): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = random.next() * std;
  }
}
