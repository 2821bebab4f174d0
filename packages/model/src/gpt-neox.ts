/**
 * GPT-NeoX (Pythia) as pure functions over a parameter record named exactly like the Hugging Face
 * `GPTNeoXForCausalLM` state dict, so loading a checkpoint is a copy (no transposes): embeddings, blocks
 * (attention and MLP, parallel or sequential residual), final LayerNorm, unembedding, loss.
 * References: HF transformers `models/gpt_neox/modeling_gpt_neox.py` (4.40), GPT-NeoX v1.0.
 *
 * The heavy operations come from the active backend's kernel set (`kernels/model-kernels.ts`): the
 * host-memory backends' products cut to stay on XNNPACK's fast paths, WGSL kernels on WebGPU. Each is
 * one tape node with a hand-written backward pass, and the layers run in their own `tf.tidy` scopes.
 *
 * Symbols used in shape comments (once, as llm.c does): B batch, T new tokens, P cached tokens,
 * S = P + T keys, C hidden size, nh heads, hs head size, r rotary dims, I MLP width, V vocabulary.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPTNeoXConfig } from "./config.js";
import { attentionBias } from "./kernels/attention-bias.js";
import { gelu } from "./kernels/gelu.js";
import { layerNorm } from "./kernels/layer-norm.js";
import { modelKernels, type ModelKernels } from "./kernels/model-kernels.js";
import { rotaryTables, splitHeadsRotary } from "./kernels/rotary.js";

export { gelu } from "./kernels/gelu.js";
export { layerNorm } from "./kernels/layer-norm.js";
export { rotaryTables } from "./kernels/rotary.js";

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

/** Positions `P … P + T − 1` for each of `B` rows, flat `[B·T]`. */
function defaultPositions(B: number, P: number, T: number): Int32Array {
  const positions = new Int32Array(B * T);
  for (let n = 0; n < B * T; n++) {
    positions[n] = P + (n % T);
  }
  return positions;
}

/** One attention block on normalised input `h` `[B, T, C]`; returns `[B, T, C]` and this layer's cache. */
function attention(
  kernels: ModelKernels,
  params: ParamRecord,
  config: GPTNeoXConfig,
  layer: number,
  h: tf.Tensor3D,
  rope: { cos: tf.Tensor4D; sin: tf.Tensor4D },
  bias: { value: tf.Tensor4D; causal: boolean },
  cache: LayerCache | undefined,
  returnCache: boolean,
): { out: tf.Tensor3D; cache?: LayerCache } {
  const prefix = `gpt_neox.layers.${layer}.attention`;
  const qkv = kernels.linear(
    h,
    param(params, `${prefix}.query_key_value.weight`),
    params[`${prefix}.query_key_value.bias`],
  ); // [B, T, 3C]
  const heads = splitHeadsRotary(qkv, config, rope); // [3, B, nh, T, hs]
  const dense = (context: tf.Tensor3D) =>
    kernels.linear(context, param(params, `${prefix}.dense.weight`), params[`${prefix}.dense.bias`]); // [B, T, C]
  if (cache === undefined && !returnCache) {
    return { out: dense(kernels.selfAttention(heads, bias.value, bias.causal)) };
  }
  const [q, kNew, v] = tf.unstack(heads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]; // [B, nh, T, hs]
  const key = cache === undefined ? kNew : (tf.concat([cache.key, kNew], 2) as tf.Tensor4D); // [B, nh, S, hs]
  const value = cache === undefined ? v : (tf.concat([cache.value, v], 2) as tf.Tensor4D); // [B, nh, S, hs]
  return { out: dense(kernels.attend(q, key, value, bias.value)), cache: { key, value } };
}

/** The MLP block on normalised input `h` `[B, T, C]` → `[B, T, C]`. */
function mlp(
  kernels: ModelKernels,
  params: ParamRecord,
  config: GPTNeoXConfig,
  layer: number,
  h: tf.Tensor3D,
): tf.Tensor3D {
  const prefix = `gpt_neox.layers.${layer}.mlp`;
  const up = kernels.linear(
    h,
    param(params, `${prefix}.dense_h_to_4h.weight`),
    params[`${prefix}.dense_h_to_4h.bias`],
  ); // [B, T, I]
  return kernels.linear(
    gelu(up, config.gelu) as tf.Tensor3D,
    param(params, `${prefix}.dense_4h_to_h.weight`),
    params[`${prefix}.dense_4h_to_h.bias`],
  ); // [B, T, C]
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
  const kernels = modelKernels();
  return tf.tidy(() => {
    const [B, T] = inputIds.shape;
    const P = options.cache?.[0]?.key.shape[2] ?? 0;
    // Default positions P … P + T − 1 are made on the host, and so are their rotary tables.
    const rope =
      options.positionIds === undefined
        ? rotaryTables(config, defaultPositions(B, P, T), [B, T])
        : rotaryTables(config, options.positionIds); // [B, 1, T, r] each
    const bias = {
      value: attentionBias(T, P + T, options.attentionMask), // [B|1, 1, T, S]
      causal: options.attentionMask === undefined && P === 0,
    };
    let x = kernels.embed(param(params, "gpt_neox.embed_in.weight"), tf.cast(inputIds, "int32")); // [B, T, C]
    const hiddenStates: tf.Tensor3D[] = [];
    const newCache: LayerCache[] = [];
    const eps = config.layerNormEps;
    for (let layer = 0; layer < config.numLayers; layer++) {
      if (options.outputHiddenStates) {
        hiddenStates.push(x);
      }
      const input = x;
      const prefix = `gpt_neox.layers.${layer}`;
      // A scope per layer frees its intermediates as soon as the layer is done (under a gradient tape,
      // what the backward pass needs is kept by the tape), so inference holds one layer's worth.
      const result = tf.tidy(() => {
        const ln1 = layerNorm(
          input,
          param(params, `${prefix}.input_layernorm.weight`),
          param(params, `${prefix}.input_layernorm.bias`),
          eps,
        ) as tf.Tensor3D;
        const attn = attention(
          kernels,
          params,
          config,
          layer,
          ln1,
          rope,
          bias,
          options.cache?.[layer],
          options.returnCache ?? false,
        );
        const post = (h: tf.Tensor3D) =>
          layerNorm(
            h,
            param(params, `${prefix}.post_attention_layernorm.weight`),
            param(params, `${prefix}.post_attention_layernorm.bias`),
            eps,
          ) as tf.Tensor3D;
        let out: tf.Tensor3D;
        if (config.useParallelResidual) {
          out = tf.add(
            tf.add(input, attn.out),
            mlp(kernels, params, config, layer, post(input)),
          ) as tf.Tensor3D; // [B, T, C]
        } else {
          const mid = tf.add(input, attn.out) as tf.Tensor3D; // [B, T, C]
          out = tf.add(mid, mlp(kernels, params, config, layer, post(mid))) as tf.Tensor3D;
        }
        return attn.cache !== undefined && options.returnCache
          ? { out, key: attn.cache.key, value: attn.cache.value }
          : { out };
      }) as { out: tf.Tensor3D; key?: tf.Tensor4D; value?: tf.Tensor4D };
      if (result.key !== undefined && result.value !== undefined) {
        newCache.push({ key: result.key, value: result.value });
      }
      if (!options.outputHiddenStates) {
        input.dispose();
      }
      x = result.out;
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
    const unembed = config.tieWordEmbeddings
      ? param(params, "gpt_neox.embed_in.weight")
      : param(params, "embed_out.weight"); // [V, C]
    const logits = kernels.linear(final, unembed, undefined); // [B, T, V]
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
 * 0 where ignored). Uses log-sum-exp minus a gathered logit, so no one-hot over the vocabulary is built,
 * and a hand-written gradient (softmax − one-hot, the one-hot applied as a scatter) so that the backward
 * pass makes no more copies of the `[B·T, V]` logits than it must.
 */
export function nextTokenLoss(
  logits: tf.Tensor3D,
  labels: tf.Tensor2D,
): { loss: tf.Scalar; tokenLosses: tf.Tensor2D } {
  const kernels = modelKernels();
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const N = B * T;
    // Position t predicts label t + 1; the last position of each row predicts nothing (−100), so the
    // logits are used in place, without slicing off the last position (a copy of [B, T−1, V]).
    const ids = tf.cast(labels, "int32");
    const targets = tf.reshape(
      tf.concat([tf.slice(ids, [0, 1], [B, T - 1]), tf.fill([B, 1], -100, "int32")], 1),
      [N],
    ); // [N]
    const keep = tf.notEqual(targets, -100); // [N]
    const valid = tf.cast(keep, "float32"); // [N]
    const flatTargets = tf.add(
      tf.mul(tf.range(0, N, 1, "int32"), tf.scalar(V, "int32")),
      tf.where(keep, targets, tf.zerosLike(targets)),
    ) as tf.Tensor1D; // [N] indices into the flattened logits
    const perPosition = kernels.crossEntropyRows(logits, flatTargets, valid as tf.Tensor1D); // [N]
    const loss = tf.div(tf.sum(perPosition), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
    const tokenLosses = tf.slice(tf.reshape(perPosition, [B, T]), [0, 0], [B, T - 1]) as tf.Tensor2D;
    return { loss, tokenLosses };
  });
}
