/**
 * `x·Wᵀ (+ b)` on device backends (webgpu, tfjs-node-gpu): the transpose flags cost nothing on a GPU, so
 * the products take the PyTorch-layout weight as it is. Symbols: N rows, in/out the weight's sides.
 */
import * as tf from "@tensorflow/tfjs-core";
import { customOp, rows2d, type CustomOp } from "../custom-op.js";

/** One tape node: dx = dy·W, dW = dyᵀ·x, db = Σ dy; only `x` (and a non-variable weight) are kept. */
function linearOp(withBias: boolean): CustomOp<tf.Tensor> {
  return customOp<tf.Tensor>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const w = args[1] as tf.Tensor2D;
    const b = withBias ? (args[2] as tf.Tensor1D) : undefined;
    const save = args[withBias ? 3 : 2] as tf.GradSaveFunc;
    const x2d = tf.reshape(x, rows2d(x.shape)) as tf.Tensor2D; // [N, in]
    const out = w.shape[0];
    const saveWeight = !(w instanceof tf.Variable);
    save(saveWeight ? [x2d, w] : [x2d]);
    const y = tf.fused.matMul({ a: x2d, b: w, transposeB: true, ...(b === undefined ? {} : { bias: b }) }); // [N, out]
    return {
      value: tf.reshape(y, [...x.shape.slice(0, -1), out]),
      gradFunc: (dy: tf.Tensor, [xs, saved]: tf.Tensor[]) =>
        tf.tidy(() => {
          const ws = (saveWeight ? saved : w) as tf.Tensor2D;
          const dy2d = tf.reshape(dy, [-1, out]) as tf.Tensor2D; // [N, out]
          const grads = [
            tf.reshape(tf.matMul(dy2d, ws), x.shape), // dx [..., in]
            tf.matMul(dy2d, xs as tf.Tensor2D, true, false), // dW [out, in]
          ];
          return b === undefined ? grads : [...grads, tf.sum(dy2d, 0)];
        }),
    };
  });
}
const linearWithBias = linearOp(true);
const linearNoBias = linearOp(false);

/** `x·Wᵀ + b` for `x` `[..., in]` and a PyTorch-layout weight `[out, in]`. */
export function linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor | undefined): T {
  return (bias === undefined ? linearNoBias(x, weight) : linearWithBias(x, weight, bias)) as T;
}
