/**
 * Batched greedy decoding with a key/value cache for equal-length prompts (no padding, so every row
 * gets exactly the logits it would get alone): HF `generate(..., do_sample=False)` with `min_length`
 * (the end-of-sequence id is banned while prompt + generated tokens are fewer than `minLength`) and an
 * optional per-row stop test that ends the batch once every row has stopped.
 *
 * Symbols: B = rows, T = prompt length, V = vocabulary.
 */
import type { GPTNeoXModel } from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";
import { AnalysisError } from "./analysis-errors.js";

/** Parameters of `greedyDecodeBatch`. */
export interface GreedyDecodeBatchParams {
  model: GPTNeoXModel;
  /** Prompts of one length. */
  prompts: readonly ArrayLike<number>[];
  /** New tokens at most. */
  maxNewTokens: number;
  /** End-of-sequence id to ban below `minLength` (`null`: none). */
  eosTokenId?: number | null;
  /** @default 0 (no ban) */
  minLength?: number;
  /** True once row `row` (its generated ids so far) needs no more tokens. */
  stopped?: (row: number, generated: readonly number[]) => boolean;
}

/** Greedy continuations of equal-length prompts; a row's list ends where the batch ended. */
export async function greedyDecodeBatch(params: GreedyDecodeBatchParams): Promise<number[][]> {
  const { model, prompts } = params;
  const B = prompts.length;
  const T = prompts[0]?.length ?? 0;
  if (prompts.some((prompt) => prompt.length !== T) || T === 0) {
    throw new AnalysisError("INPUT", "greedyDecodeBatch: prompts must be non-empty and of equal length");
  }
  const eos = params.eosTokenId ?? null;
  const minLength = params.minLength ?? 0;
  const flat = new Int32Array(B * T);
  prompts.forEach((prompt, b) => flat.set(prompt, b * T));
  const out: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let next: tf.Tensor2D = tf.tensor2d(flat, [B, T], "int32");
  let cache: ReturnType<GPTNeoXModel["forward"]>["cache"];
  try {
    for (let index = 0; index < params.maxNewTokens && done.includes(false); index++) {
      const result = model.forward(next, { cache, returnCache: true });
      const S = result.logits.shape[1];
      const V = result.logits.shape[2];
      const last = tf.tidy(() => tf.reshape(tf.slice(result.logits, [0, S - 1, 0], [B, 1, V]), [B, V]));
      const logits = (await last.data()) as Float32Array; // [B, V]
      tf.dispose([last, result.logits, next]);
      if (cache !== undefined) {
        tf.dispose(cache.flatMap((layer) => [layer.key, layer.value]));
      }
      cache = result.cache;
      const chosen = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const row = logits.subarray(b * V, (b + 1) * V);
        if (eos !== null && eos >= 0 && T + index < minLength) {
          row[eos] = -Infinity;
        }
        let best = 0;
        for (let v = 1; v < V; v++) {
          if ((row[v] as number) > (row[best] as number)) {
            best = v;
          }
        }
        chosen[b] = best;
        const generated = out[b] as number[];
        generated.push(best);
        if (params.stopped?.(b, generated) === true) {
          done[b] = true;
        }
      }
      next = tf.tensor2d(chosen, [B, 1], "int32");
    }
  } finally {
    if (!next.isDisposed) {
      next.dispose();
    }
    if (cache !== undefined) {
      tf.dispose(cache.flatMap((layer) => [layer.key, layer.value]));
    }
  }
  return out;
}
