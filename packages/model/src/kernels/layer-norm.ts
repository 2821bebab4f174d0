/** LayerNorm over the last axis with a hand-written backward pass (every backend). */
import * as tf from "@tensorflow/tfjs-core";
import { customOp, sumRows } from "./custom-op.js";

/** LayerNorm over the last axis (biased variance, like torch), one tape node with a hand-written backward. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const op = customOp<tf.Tensor>((xs: tf.Tensor, w: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const centered = tf.sub(xs, tf.mean(xs, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps)); // [..., 1]
    const normed = tf.mul(centered, rstd); // [..., C]
    const saveWeight = !(w instanceof tf.Variable); // see linearOp
    save(saveWeight ? [normed, rstd, w] : [normed, rstd]);
    return {
      value: tf.add(tf.mul(normed, w), b),
      gradFunc: (dy: tf.Tensor, [n, r, saved]: tf.Tensor[]) =>
        tf.tidy(() => {
          const xhat = n as tf.Tensor;
          const C = xhat.shape[xhat.shape.length - 1] as number;
          const dn = tf.mul(dy, saveWeight ? (saved as tf.Tensor) : w); // d loss / d normed
          // dx = rstd·(dn − mean(dn) − normed·mean(dn·normed))
          const dx = tf.mul(
            tf.sub(tf.sub(dn, tf.mean(dn, -1, true)), tf.mul(xhat, tf.mean(tf.mul(dn, xhat), -1, true))),
            r as tf.Tensor,
          );
          return [
            dx,
            sumRows(tf.reshape(tf.mul(dy, xhat), [-1, C]) as tf.Tensor2D),
            sumRows(tf.reshape(dy, [-1, C]) as tf.Tensor2D),
          ];
        }),
    };
  });
  return op(x, weight, bias);
}
