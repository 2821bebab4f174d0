/** Row-wise cross-entropy on device backends (generic ops, no host round-trips). Symbols: N rows, V vocabulary. */
import * as tf from "@tensorflow/tfjs-core";
import { customOp, rows2d } from "../custom-op.js";

/**
 * `(logsumexp(x[r]) − x.flat[flatTargets[r]])·valid[r]` with the gradient `(softmax(x[r]) − onehot)·
 * valid[r]·dy[r]`; keeps the row log-sum-exps (not the probabilities) and recomputes them backward.
 */
export function crossEntropyRows(x: tf.Tensor, flatTargets: tf.Tensor1D, valid: tf.Tensor1D): tf.Tensor1D {
  const op = customOp<tf.Tensor1D>((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const logits = tf.reshape(input, rows2d(input.shape)) as tf.Tensor2D; // [N, V]
    const lse = tf.logSumExp(logits, -1); // [N]
    const picked = tf.gather(tf.reshape(logits, [-1]), flatTargets); // [N]
    save([logits, lse, flatTargets, valid]);
    return {
      value: tf.mul(tf.sub(lse, picked), valid),
      gradFunc: (dy: tf.Tensor1D, [xs, l, targets, keep]: tf.Tensor[]) =>
        tf.tidy(() => {
          const scale = tf.mul(dy, keep as tf.Tensor1D); // [N]
          const probs = tf.exp(tf.sub(xs as tf.Tensor2D, tf.reshape(l as tf.Tensor1D, [-1, 1]))); // [N, V]
          const scaled = tf.reshape(tf.mul(probs, tf.reshape(scale, [-1, 1])), [-1]); // [N·V]
          const atTargets = tf.sub(tf.gather(scaled, targets as tf.Tensor1D), scale); // [N]
          const grad = tf.tensorScatterUpdate(scaled, tf.reshape(targets as tf.Tensor1D, [-1, 1]), atTargets);
          return tf.reshape(grad, input.shape);
        }),
    };
  });
  return op(x);
}
