/**
 * GPT-NeoX (Pythia) forward pass as pure functions over a parameter record named exactly like the
 * Hugging Face `GPTNeoXForCausalLM` state dict, so loading a checkpoint is a copy (no transposes).
 * References: HF transformers `models/gpt_neox/modeling_gpt_neox.py` (4.40), GPT-NeoX v1.0.
 *
 * Symbols used in shape comments (once, as llm.c does): B batch, T new tokens, P cached tokens,
 * S = P + T keys, C hidden size, nh heads, hs head size, r rotary dims, I MLP width, V vocabulary.
 */
import * as tf from "@tensorflow/tfjs";
import { headSize, rotaryDims, type GPTNeoXConfig } from "./config.js";

/** Parameters by HF name (`gpt_neox.layers.0.attention.query_key_value.weight`, …). */
export type ParamRecord = Readonly<Record<string, tf.Tensor>>;

/** Cached keys and values of one layer, `[B, nh, P, hs]` each. */
export interface LayerCache {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/** Options of `forward`. */
export interface ForwardOptions {
  /** `[B, S]` 1 for real tokens, 0 for padding (cached positions included); padding keys are masked out. */
  attentionMask?: tf.Tensor2D;
  /** `[B, T]` positions for rotary embeddings. @default P … P + T − 1 */
  positionIds?: tf.Tensor2D;
  /** Per-layer key/value cache from a previous call (incremental decoding). */
  cache?: readonly LayerCache[];
  /** Also return the cache including these tokens. @default false */
  returnCache?: boolean;
  /** Also return every layer's hidden states (HF `output_hidden_states`). @default false */
  outputHiddenStates?: boolean;
}

/** What `forward` returns (all tensors owned by the caller). */
export interface ForwardOutput {
  /** `[B, T, V]` */
  logits: tf.Tensor3D;
  /**
   * HF's convention: index 0 is the embedding output, index i the input of layer i, and index L the
   * output of the last layer after the final LayerNorm. Each `[B, T, C]`.
   */
  hiddenStates?: tf.Tensor3D[];
  cache?: LayerCache[];
}

/** Looks up a parameter, failing with the name when a checkpoint lacks it. */
function param(params: ParamRecord, name: string): tf.Tensor {
  const value = params[name];
  if (value === undefined) {
    throw new Error(`missing parameter ${name}`);
  }
  return value;
}

/** `x·Wᵀ + b` for a PyTorch-layout weight `[out, in]`. */
function linear(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor2D {
  const y: tf.Tensor2D = tf.matMul(x, weight as tf.Tensor2D, false, true); // [N, out]
  return bias === undefined ? y : (tf.add(y, bias) as tf.Tensor2D);
}

/** LayerNorm over the last axis (biased variance, like torch). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), weight), bias);
}

/** GELU: exact (erf, HF "gelu") or the tanh approximation GPT-NeoX trains with. */
export function gelu(x: tf.Tensor, kind: GPTNeoXConfig["gelu"]): tf.Tensor {
  if (kind === "erf") {
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  }
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

/**
 * cos and sin tables `[B, 1, T, r]` for the given positions: `inv_freq = θ^(−2i/r)`, angles
 * duplicated over both halves (`cat(freqs, freqs)`) for rotate-half.
 */
export function rotaryTables(
  config: GPTNeoXConfig,
  positions: tf.Tensor2D,
): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const r = rotaryDims(config);
  const invFreq = new Float32Array(r / 2);
  for (let i = 0; i < r / 2; i++) {
    invFreq[i] = 1 / Math.pow(config.rotaryEmbBase, (2 * i) / r);
  }
  const halves = tf.tensor1d(invFreq); // [r/2]
  const angles = tf.mul(tf.expandDims(tf.cast(positions, "float32"), -1), halves); // [B, T, r/2]
  const full = tf.concat([angles, angles], -1); // [B, T, r]
  const [B, T] = positions.shape;
  return {
    cos: tf.reshape(tf.cos(full), [B, 1, T, r]),
    sin: tf.reshape(tf.sin(full), [B, 1, T, r]),
  };
}

/** Rotary embedding (GPT-NeoX rotate-half) on the first r dims of `x` `[B, nh, T, hs]`; the rest pass. */
function applyRotary(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D, r: number): tf.Tensor4D {
  const hs = x.shape[3];
  const parts = r === hs ? [x] : tf.split(x, [r, hs - r], -1); // [B, nh, T, r], [B, nh, T, hs-r]
  const rot = parts[0] as tf.Tensor4D;
  const pass = parts[1] ?? null;
  const [x1, x2] = tf.split(rot, 2, -1) as [tf.Tensor4D, tf.Tensor4D]; // [B, nh, T, r/2] each
  const rotated = tf.concat([tf.neg(x2), x1], -1); // rotate_half: [B, nh, T, r]
  const embedded = tf.add(tf.mul(rot, cos), tf.mul(rotated, sin)); // [B, nh, T, r]
  return (pass === null ? embedded : tf.concat([embedded, pass], -1)) as tf.Tensor4D;
}

/**
 * Additive attention bias `[B or 1, 1, T, S]`: 0 where query t (absolute position P + t) may see key s
 * (s ≤ P + t and not padding), a large negative number elsewhere (HF uses finfo(float32).min).
 */
function attentionBias(T: number, S: number, attentionMask: tf.Tensor2D | undefined): tf.Tensor4D {
  const P = S - T;
  const causal = new Float32Array(T * S);
  for (let t = 0; t < T; t++) {
    for (let s = P + t + 1; s < S; s++) {
      causal[t * S + s] = -3.4028234663852886e38;
    }
  }
  const bias = tf.tensor4d(causal, [1, 1, T, S]);
  if (attentionMask === undefined) {
    return bias;
  }
  const [B] = attentionMask.shape;
  const padding = tf.mul(
    tf.sub(1, tf.cast(tf.reshape(attentionMask, [B, 1, 1, S]), "float32")),
    -3.4028234663852886e38,
  );
  // Clip so that masked + masked stays finite (HF relies on finfo.min the same way).
  return tf.maximum(tf.add(bias, padding), -3.4028234663852886e38) as tf.Tensor4D;
}

/** One attention block on normalised input `h` `[B, T, C]`; returns `[B, T, C]` and this layer's cache. */
function attention(
  params: ParamRecord,
  config: GPTNeoXConfig,
  layer: number,
  h: tf.Tensor3D,
  rope: { cos: tf.Tensor4D; sin: tf.Tensor4D },
  bias: tf.Tensor4D,
  cache: LayerCache | undefined,
): { out: tf.Tensor3D; cache: LayerCache } {
  const prefix = `gpt_neox.layers.${layer}.attention`;
  const [B, T, C] = h.shape;
  const nh = config.numHeads;
  const hs = headSize(config);
  const qkv = linear(
    tf.reshape(h, [B * T, C]),
    param(params, `${prefix}.query_key_value.weight`),
    params[`${prefix}.query_key_value.bias`],
  ); // [B*T, 3C]
  // Rows of the fused weight are grouped per head: head h owns [q_h (hs) | k_h (hs) | v_h (hs)].
  const perHead = tf.transpose(tf.reshape(qkv, [B, T, nh, 3 * hs]), [0, 2, 1, 3]); // [B, nh, T, 3hs]
  const [q0, k0, v] = tf.split(perHead, 3, -1) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]; // [B, nh, T, hs] each
  const r = rotaryDims(config);
  const q = applyRotary(q0, rope.cos, rope.sin, r);
  const kNew = applyRotary(k0, rope.cos, rope.sin, r);
  const key = cache === undefined ? kNew : (tf.concat([cache.key, kNew], 2) as tf.Tensor4D); // [B, nh, S, hs]
  const value = cache === undefined ? v : (tf.concat([cache.value, v], 2) as tf.Tensor4D); // [B, nh, S, hs]
  const scores = tf.add(tf.mul(tf.matMul(q, key, false, true), 1 / Math.sqrt(hs)), bias); // [B, nh, T, S]
  const probs = tf.softmax(scores, -1); // [B, nh, T, S]
  const context = tf.matMul(probs, value); // [B, nh, T, hs]
  const merged: tf.Tensor2D = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [B * T, C]); // [B*T, C]
  const out = linear(merged, param(params, `${prefix}.dense.weight`), params[`${prefix}.dense.bias`]); // [B*T, C]
  return { out: tf.reshape(out, [B, T, C]), cache: { key, value } };
}

/** The MLP block on normalised input `h` `[B, T, C]` → `[B, T, C]`. */
function mlp(params: ParamRecord, config: GPTNeoXConfig, layer: number, h: tf.Tensor3D): tf.Tensor3D {
  const prefix = `gpt_neox.layers.${layer}.mlp`;
  const [B, T, C] = h.shape;
  const up = linear(
    tf.reshape(h, [B * T, C]),
    param(params, `${prefix}.dense_h_to_4h.weight`),
    params[`${prefix}.dense_h_to_4h.bias`],
  ); // [B*T, I]
  const down = linear(
    gelu(up, config.gelu) as tf.Tensor2D,
    param(params, `${prefix}.dense_4h_to_h.weight`),
    params[`${prefix}.dense_4h_to_h.bias`],
  ); // [B*T, C]
  return tf.reshape(down, [B, T, C]);
}

/**
 * Logits for `inputIds` `[B, T]` (int32). Runs inside `tf.tidy`; returned tensors are the caller's to
 * dispose. With `cache`, `inputIds` are the new tokens only and positions continue after the cache.
 */
export function forward(
  params: ParamRecord,
  config: GPTNeoXConfig,
  inputIds: tf.Tensor2D,
  options: ForwardOptions = {},
): ForwardOutput {
  return tf.tidy(() => {
    const [B, T] = inputIds.shape;
    const P = options.cache?.[0]?.key.shape[2] ?? 0;
    const positions =
      options.positionIds ??
      (tf.tile(tf.reshape(tf.range(P, P + T, 1, "int32"), [1, T]), [B, 1]) as tf.Tensor2D); // [B, T]
    const rope = rotaryTables(config, positions);
    const bias = attentionBias(T, P + T, options.attentionMask); // [B|1, 1, T, S]
    let x = tf.gather(param(params, "gpt_neox.embed_in.weight"), tf.cast(inputIds, "int32")) as tf.Tensor3D; // [B, T, C]
    const hiddenStates: tf.Tensor3D[] = [];
    const newCache: LayerCache[] = [];
    const eps = config.layerNormEps;
    for (let layer = 0; layer < config.numLayers; layer++) {
      if (options.outputHiddenStates) {
        hiddenStates.push(x);
      }
      const prefix = `gpt_neox.layers.${layer}`;
      const ln1 = layerNorm(
        x,
        param(params, `${prefix}.input_layernorm.weight`),
        param(params, `${prefix}.input_layernorm.bias`),
        eps,
      ) as tf.Tensor3D;
      const attn = attention(params, config, layer, ln1, rope, bias, options.cache?.[layer]);
      newCache.push(attn.cache);
      const post = (input: tf.Tensor3D) =>
        layerNorm(
          input,
          param(params, `${prefix}.post_attention_layernorm.weight`),
          param(params, `${prefix}.post_attention_layernorm.bias`),
          eps,
        ) as tf.Tensor3D;
      if (config.useParallelResidual) {
        x = tf.add(tf.add(x, attn.out), mlp(params, config, layer, post(x))) as tf.Tensor3D; // [B, T, C]
      } else {
        const mid = tf.add(x, attn.out) as tf.Tensor3D; // [B, T, C]
        x = tf.add(mid, mlp(params, config, layer, post(mid))) as tf.Tensor3D;
      }
    }
    const final = layerNorm(
      x,
      param(params, "gpt_neox.final_layer_norm.weight"),
      param(params, "gpt_neox.final_layer_norm.bias"),
      eps,
    ) as tf.Tensor3D; // [B, T, C]
    if (options.outputHiddenStates) {
      hiddenStates.push(final);
    }
    const [, , C] = final.shape;
    const unembed = config.tieWordEmbeddings
      ? param(params, "gpt_neox.embed_in.weight")
      : param(params, "embed_out.weight"); // [V, C]
    const logits = tf.reshape(tf.matMul(tf.reshape(final, [B * T, C]), unembed as tf.Tensor2D, false, true), [
      B,
      T,
      -1,
    ]) as tf.Tensor3D; // [B, T, V]
    const out: ForwardOutput = { logits };
    if (options.outputHiddenStates) {
      out.hiddenStates = hiddenStates;
    }
    if (options.returnCache) {
      out.cache = newCache;
    }
    return out as unknown as tf.TensorContainer;
  }) as unknown as ForwardOutput;
}

/**
 * Mean next-token cross-entropy, HF's definition: over all B·(T−1) pairs (logits[b, t], labels[b, t+1]),
 * skipping labels equal to −100. `labels` defaults to `inputIds`. Returns per-pair losses too (`[B, T−1]`,
 * 0 where ignored). Uses log-sum-exp minus a gathered logit, so no one-hot over the vocabulary is built.
 */
export function nextTokenLoss(
  logits: tf.Tensor3D,
  labels: tf.Tensor2D,
): { loss: tf.Scalar; tokenLosses: tf.Tensor2D } {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const predictions = tf.reshape(tf.slice(logits, [0, 0, 0], [B, T - 1, V]), [B * (T - 1), V]); // [N, V]
    const targets = tf.reshape(tf.slice(tf.cast(labels, "int32"), [0, 1], [B, T - 1]), [B * (T - 1)]); // [N]
    const valid = tf.cast(tf.notEqual(targets, -100), "float32"); // [N]
    const safeTargets = tf.where(tf.notEqual(targets, -100), targets, tf.zerosLike(targets)); // [N]
    const rowStarts = tf.mul(tf.range(0, B * (T - 1), 1, "int32"), tf.scalar(V, "int32")); // [N]
    const picked = tf.gather(tf.reshape(predictions, [-1]), tf.add(rowStarts, safeTargets)); // [N]
    const perPair = tf.mul(tf.sub(tf.logSumExp(predictions, -1), picked), valid); // [N]
    const loss = tf.div(tf.sum(perPair), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
    return { loss, tokenLosses: tf.reshape(perPair, [B, T - 1]) as tf.Tensor2D };
  });
}
