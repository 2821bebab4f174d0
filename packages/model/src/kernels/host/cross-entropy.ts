/** Row-wise cross-entropy on the host-memory backends (wasm, cpu, tfjs-node). */
import * as tf from "@tensorflow/tfjs-core";
import { customOp, rows2d } from "../custom-op.js";

/**
 * Row-wise `(logsumexp(x[r]) − x.flat[flatTargets[r]])·valid[r]` for `x` `[..., V]` taken as N rows,
 * with the gradient `(softmax(x[r]) − onehot(target r))·valid[r]·dy[r]`. On the wasm backend `exp` is a
 * scalar loop (~7 ns per element) while `softmax` is XNNPACK's vectorised kernel (~1.3 ns), so
 * log-sum-exp is taken from the softmax: the largest probability is `exp(0) / Σ exp(x − max)`, hence
 * `logsumexp = max − log(max(softmax))`, exact and never underflowing (that probability is ≥ 1/V).
 * The probabilities are kept for the backward pass instead of recomputing them.
 */
export function crossEntropyRows(x: tf.Tensor, flatTargets: tf.Tensor1D, valid: tf.Tensor1D): tf.Tensor1D {
  const op = customOp<tf.Tensor1D>((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const logits = tf.reshape(input, rows2d(input.shape)) as tf.Tensor2D; // [N, V], reshaped off the tape
    const probs = tf.softmax(logits, -1); // [N, V]
    const lse = tf.sub(tf.max(logits, -1), tf.log(tf.max(probs, -1))); // [N]
    const picked = tf.gather(tf.reshape(logits, [-1]), flatTargets); // [N]
    save([probs, flatTargets, valid]);
    return {
      value: tf.mul(tf.sub(lse, picked), valid),
      gradFunc: (dy: tf.Tensor1D, [p, targets, keep]: tf.Tensor[]) =>
        tf.tidy(() => {
          const scale = tf.mul(dy, keep as tf.Tensor1D); // [N]
          const scaled = tf.reshape(tf.mul(p as tf.Tensor2D, tf.reshape(scale, [-1, 1])), [-1]); // [N·V]
          (p as tf.Tensor).dispose(); // only this node uses it: free it now, not when the backward pass ends
          const atTargets = tf.sub(tf.gather(scaled, targets as tf.Tensor1D), scale); // [N]
          const grad = tf.tensorScatterUpdate(scaled, tf.reshape(targets as tf.Tensor1D, [-1, 1]), atTargets);
          scaled.dispose();
          return tf.reshape(grad, input.shape);
        }),
    };
  });
  return op(x);
}
