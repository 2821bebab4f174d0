import { drain } from "@pythia/core";
import * as tf from "@tensorflow/tfjs-core";
import type { Tokenizer } from "@pythia/tokenizer";
import type { LayerCache } from "./gpt-neox.js";
import { ModelError } from "./model-errors.js";
import type { GPTNeoXModel } from "./model.js";
import { RandomNormal } from "./random-normal.js";

/** Parameters of `generate` / `generateIter`. */
export interface GenerateParams {
  model: GPTNeoXModel;
  /** The prompt's token ids (one sequence). */
  inputIds: readonly number[];
  /** Tokens to generate at most. */
  maxNewTokens: number;
  /** 0 (default) for greedy decoding; otherwise logits are divided by it before sampling. */
  temperature?: number;
  /** Sample only among the k most likely tokens. */
  topK?: number;
  /** Sample only from the smallest set of tokens whose probability reaches p (nucleus). */
  topP?: number;
  /** Seed of the sampler (sampling is deterministic for a given seed). @default 0 */
  seed?: number;
  /**
   * HF `min_length`: the end-of-sequence token is banned while prompt + generated tokens are fewer
   * than this (Pythia's memorisation evaluation uses it to forbid EOD).
   */
  minLength?: number;
  /** End-of-sequence id; generation stops after it. `null` never stops early. @default config.eosTokenId */
  eosTokenId?: number | null;
  /** Stop once the decoded continuation contains one of these (needs `tokenizer`). */
  stopStrings?: readonly string[];
  /** For `stopStrings` and for the `text` of the result. */
  tokenizer?: Tokenizer;
  signal?: AbortSignal;
}

/** One generated token. */
export interface GeneratedToken {
  type: "token-generated";
  id: number;
  /** 0-based index among the new tokens. */
  index: number;
}

/** The outcome of a generation. */
export interface GenerateResult {
  /** Prompt and continuation. */
  ids: number[];
  /** The continuation only. */
  newIds: number[];
  /** The continuation decoded (when a tokenizer was given). */
  text?: string;
  finishReason: "length" | "eos" | "stop-string";
}

/**
 * Generates a continuation token by token with a key/value cache (each step runs only the new
 * token through the model), yielding each token as it is chosen. Greedy unless `temperature > 0`;
 * then temperature → top-k → top-p, as transformers applies them.
 */
export async function* generateIter(params: GenerateParams): AsyncGenerator<GeneratedToken, GenerateResult> {
  const { model, maxNewTokens } = params;
  const eos = params.eosTokenId === undefined ? model.config.eosTokenId : params.eosTokenId;
  if (params.inputIds.length === 0) {
    throw new ModelError("MODEL_INPUT", "generate: the prompt is empty; give at least one token");
  }
  const outside = params.inputIds.find(
    (id) => !Number.isInteger(id) || id < 0 || id >= model.config.vocabSize,
  );
  if (outside !== undefined) {
    throw new ModelError(
      "MODEL_INPUT",
      `generate: prompt token ${outside} is outside the model's vocabulary [0, ${model.config.vocabSize}); does the tokenizer belong to this model?`,
    );
  }
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new ModelError(
      "MODEL_INPUT",
      `generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`,
    );
  }
  if (params.stopStrings?.length && params.tokenizer === undefined) {
    throw new ModelError("MODEL_INPUT", "generate: stopStrings need a tokenizer to decode the continuation");
  }
  if (params.inputIds.length + maxNewTokens > model.config.maxPositionEmbeddings) {
    throw new ModelError(
      "MODEL_INPUT",
      `generate: ${params.inputIds.length} prompt + ${maxNewTokens} new tokens exceed the model's ${model.config.maxPositionEmbeddings} positions`,
    );
  }
  const random = new RandomNormal(params.seed ?? 0);
  const ids = [...params.inputIds];
  const newIds: number[] = [];
  let cache: LayerCache[] | undefined;
  let next: tf.Tensor2D = tf.tensor2d([ids], [1, ids.length], "int32");
  let finishReason: GenerateResult["finishReason"] = "length";
  try {
    for (let index = 0; index < maxNewTokens; index++) {
      params.signal?.throwIfAborted();
      const out = model.forward(next, { cache, returnCache: true });
      const T = out.logits.shape[1];
      const last = tf.tidy(() => tf.reshape(tf.slice(out.logits, [0, T - 1, 0], [1, 1, -1]), [-1]));
      const logits = (await last.data()) as Float32Array;
      tf.dispose([last, out.logits, next]);
      if (cache !== undefined) {
        tf.dispose(cache.flatMap((layer) => [layer.key, layer.value]));
      }
      cache = out.cache;
      if (eos !== null && params.minLength !== undefined && ids.length < params.minLength) {
        logits[eos] = -Infinity;
      }
      const id = chooseToken(logits, params, random);
      ids.push(id);
      newIds.push(id);
      yield { type: "token-generated", id, index };
      if (eos !== null && id === eos) {
        finishReason = "eos";
        break;
      }
      if (params.stopStrings?.length && params.tokenizer !== undefined) {
        const text = params.tokenizer.decode(newIds);
        if (params.stopStrings.some((stop) => text.includes(stop))) {
          finishReason = "stop-string";
          break;
        }
      }
      next = tf.tensor2d([[id]], [1, 1], "int32");
    }
  } finally {
    if (!next.isDisposed) {
      next.dispose();
    }
    if (cache !== undefined) {
      tf.dispose(cache.flatMap((layer) => [layer.key, layer.value]));
    }
  }
  const result: GenerateResult = { ids, newIds, finishReason };
  if (params.tokenizer !== undefined) {
    result.text = params.tokenizer.decode(newIds);
  }
  return result;
}

/** Drains `generateIter`. */
export async function generate(
  params: GenerateParams & { onToken?: (token: GeneratedToken) => void },
): Promise<GenerateResult> {
  return drain(generateIter(params), params.onToken);
}

/** Greedy argmax, or a seeded sample after temperature, top-k and top-p. */
export function chooseToken(
  logits: Float32Array,
  options: Pick<GenerateParams, "temperature" | "topK" | "topP">,
  random: RandomNormal,
): number {
  const temperature = options.temperature ?? 0;
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) {
      if ((logits[i] as number) > (logits[best] as number)) {
        best = i;
      }
    }
    return best;
  }
  let order = Array.from(logits.keys()).sort((a, b) => (logits[b] as number) - (logits[a] as number));
  if (options.topK !== undefined && options.topK > 0) {
    order = order.slice(0, options.topK);
  }
  const top = logits[order[0] as number] as number;
  let probabilities = order.map((i) => Math.exp(((logits[i] as number) - top) / temperature));
  let total = probabilities.reduce((a, b) => a + b, 0);
  if (options.topP !== undefined && options.topP < 1) {
    let cumulative = 0;
    let keep = 0;
    while (keep < probabilities.length && cumulative < options.topP * total) {
      cumulative += probabilities[keep] as number;
      keep++;
    }
    order = order.slice(0, Math.max(1, keep));
    probabilities = probabilities.slice(0, Math.max(1, keep));
    total = probabilities.reduce((a, b) => a + b, 0);
  }
  let threshold = random.uniform() * total;
  for (let i = 0; i < order.length; i++) {
    threshold -= probabilities[i] as number;
    if (threshold <= 0) {
      return order[i] as number;
    }
  }
  return order[order.length - 1] as number;
}
