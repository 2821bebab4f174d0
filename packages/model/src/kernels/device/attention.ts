/**
 * Attention on device backends with batched products over all (batch, head) pairs at once and no host
 * round-trips. It materialises the `[B, nh, T, S]` probabilities (kept for the backward pass); the
 * webgpu kernel set replaces the causal case with a flash-style kernel (`../webgpu/flash-attention.ts`).
 * Symbols: B batch, nh heads, T queries, S keys, hs head size.
 */
import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "../custom-op.js";

/** Forward value and hand-written gradient of `softmax(q·kᵀ·scale + bias)·v`, heads merged. */
function attentionCore(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  bias: tf.Tensor4D,
): { value: tf.Tensor3D; probs: tf.Tensor4D } {
  const [B, nh, T, hs] = q.shape;
  const scale = 1 / Math.sqrt(hs);
  const probs = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), scale), bias)) as tf.Tensor4D; // [B, nh, T, S]
  const context = tf.matMul(probs, v); // [B, nh, T, hs]
  return { value: tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [B, T, nh * hs]), probs };
}

/** Gradients `[dq, dk, dv]` of `attentionCore` from the saved inputs and probabilities `p`. */
function attentionGrad(
  dMerged: tf.Tensor3D,
  [q, k, v, p]: [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D],
): tf.Tensor4D[] {
  const [B, nh, T, hs] = q.shape;
  const scale = 1 / Math.sqrt(hs);
  const dy = tf.transpose(tf.reshape(dMerged, [B, T, nh, hs]), [0, 2, 1, 3]); // [B, nh, T, hs]
  const dP = tf.matMul(dy, v, false, true); // [B, nh, T, S]
  const dS = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))); // softmax backward
  return [
    tf.mul(tf.matMul(dS, k), scale) as tf.Tensor4D, // dq [B, nh, T, hs]
    tf.mul(tf.matMul(dS, q, true, false), scale) as tf.Tensor4D, // dk [B, nh, S, hs]
    tf.matMul(p, dy, true, false) as tf.Tensor4D, // dv [B, nh, S, hs]
  ];
}

/** `softmax(q·kᵀ/√hs + bias)·v` for `q` `[B, nh, T, hs]`, `key`/`value` `[B, nh, S, hs]` → `[B, T, C]`. */
export function scaledDotProductAttention(
  q: tf.Tensor4D,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
  bias: tf.Tensor4D,
): tf.Tensor3D {
  const op = customOp<tf.Tensor3D>(
    (qIn: tf.Tensor4D, kIn: tf.Tensor4D, vIn: tf.Tensor4D, save: tf.GradSaveFunc) => {
      const core = attentionCore(qIn, kIn, vIn, bias);
      save([qIn, kIn, vIn, core.probs]);
      return {
        value: core.value,
        gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) =>
          tf.tidy(() => attentionGrad(dy, saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D])),
      };
    },
  );
  return op(q, key, value);
}

/** The same on `[3, B, nh, T, hs]` (q, k, v stacked), one tape node with one gradient. */
export function selfAttention(qkvHeads: tf.Tensor5D, bias: tf.Tensor4D): tf.Tensor3D {
  const op = customOp<tf.Tensor3D>((x: tf.Tensor5D, save: tf.GradSaveFunc) => {
    const [q, k, v] = tf.unstack(x) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const core = attentionCore(q, k, v, bias);
    save([x, core.probs]);
    return {
      value: core.value,
      gradFunc: (dy: tf.Tensor3D, [xs, p]: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qs, ks, vs] = tf.unstack(xs as tf.Tensor5D) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
          return tf.stack(attentionGrad(dy, [qs, ks, vs, p as tf.Tensor4D]));
        }),
    };
  });
  return op(qkvHeads);
}
