/** The additive attention bias: causal mask plus padding (every backend). Symbols: T queries, S keys. */
import * as tf from "@tensorflow/tfjs-core";

/** Causal masks by `T,S`, kept on the host (a tensor is made per forward): the last few shapes. */
const causalMasks = new Map<string, Float32Array>();

/** `[T, S]`: 0 where query t (absolute position S − T + t) may see key s, finfo(float32).min elsewhere. */
function causalMask(T: number, S: number): Float32Array {
  const key = `${T},${S}`;
  let mask = causalMasks.get(key);
  if (mask === undefined) {
    const P = S - T;
    mask = new Float32Array(T * S);
    for (let t = 0; t < T; t++) {
      mask.fill(-3.4028234663852886e38, t * S + P + t + 1, (t + 1) * S);
    }
    if (causalMasks.size >= 4) {
      causalMasks.delete(causalMasks.keys().next().value as string);
    }
    causalMasks.set(key, mask);
  }
  return mask;
}

/**
 * Additive attention bias `[B or 1, 1, T, S]`: 0 where query t (absolute position P + t) may see key s
 * (s ≤ P + t and not padding), a large negative number elsewhere (HF uses finfo(float32).min).
 */
export function attentionBias(T: number, S: number, attentionMask: tf.Tensor2D | undefined): tf.Tensor4D {
  const bias = tf.tensor4d(causalMask(T, S), [1, 1, T, S]);
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
