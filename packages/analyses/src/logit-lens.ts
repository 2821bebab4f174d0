/**
 * The logit lens (nostalgebraist 2020; Belrose et al. 2023): decode each residual-stream state with
 * the model's own final LayerNorm and unembedding, `logits_ℓ = embed_out(final_layer_norm(h_ℓ))`, and
 * measure KL(p_final ‖ p_ℓ) per position. Layer 0 is the embedding output; layer L the final output.
 */
import { layerNorm, type GPTNeoXModel } from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";
import { checkLensFits, translate, type TunedLens } from "./tuned-lens.js";

/** One layer's lens. */
export interface LogitLensLayer {
  layer: number;
  /** Top-1 token id per position. */
  topTokens: number[];
  /** KL(p_final ‖ p_layer) per position, in nats. */
  kl: number[];
  meanKl: number;
}

/** What `logitLens` returns. */
export interface LogitLensResult {
  inputIds: number[];
  layers: LogitLensLayer[];
}

/** Runs the logit lens (or, with `lens`, the tuned lens) over one sequence of token ids. */
export async function logitLens(params: {
  model: GPTNeoXModel;
  inputIds: readonly number[];
  /** Translate each layer's state with this tuned lens before unembedding. */
  lens?: TunedLens;
}): Promise<LogitLensResult> {
  const { model } = params;
  const config = model.config;
  if (params.lens !== undefined) {
    checkLensFits(params.lens, model);
  }
  const { logits, hiddenStates } = model.forward([[...params.inputIds]], { outputHiddenStates: true });
  const states = hiddenStates as tf.Tensor3D[];
  const layers: LogitLensLayer[] = [];
  const finalLogProbs = tf.tidy(() => tf.logSoftmax(tf.squeeze(logits, [0]) as tf.Tensor2D)); // [T, V]
  try {
    for (let layer = 0; layer < states.length; layer++) {
      const [top, kl] = tf.tidy(() => {
        const raw = tf.squeeze(states[layer] as tf.Tensor3D, [0]) as tf.Tensor2D; // [T, C]
        const last = layer === states.length - 1;
        const h = params.lens === undefined || last ? raw : translate(params.lens, layer, raw); // [T, C]
        // hiddenStates[L] is already after the final LayerNorm (HF convention).
        const normed = last
          ? h
          : layerNorm(
              h,
              model.params["gpt_neox.final_layer_norm.weight"] as tf.Tensor,
              model.params["gpt_neox.final_layer_norm.bias"] as tf.Tensor,
              config.layerNormEps,
            ); // [T, C]
        const unembed = config.tieWordEmbeddings
          ? (model.params["gpt_neox.embed_in.weight"] as tf.Tensor2D)
          : (model.params["embed_out.weight"] as tf.Tensor2D); // [V, C]
        const layerLogits = tf.matMul(normed as tf.Tensor2D, unembed, false, true); // [T, V]
        const logProbs = tf.logSoftmax(layerLogits); // [T, V]
        const divergence = tf.sum(tf.mul(tf.exp(finalLogProbs), tf.sub(finalLogProbs, logProbs)), -1); // [T]
        return [tf.argMax(layerLogits, -1), divergence];
      });
      const topTokens = Array.from((await top.data()) as Int32Array);
      const klValues = Array.from((await kl.data()) as Float32Array, (v) => Math.max(0, v));
      tf.dispose([top, kl]);
      layers.push({
        layer,
        topTokens,
        kl: klValues,
        meanKl: klValues.reduce((a, b) => a + b, 0) / klValues.length,
      });
    }
  } finally {
    tf.dispose([logits, ...states, finalLogProbs]);
  }
  return { inputIds: [...params.inputIds], layers };
}
