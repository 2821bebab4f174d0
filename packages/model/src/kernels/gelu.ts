/** GELU, exact and tanh-approximated, each one tape node (every backend). */
import * as tf from "@tensorflow/tfjs-core";
import type { GPTNeoXConfig } from "../config.js";
import { customOp } from "./custom-op.js";

/** GELU: exact (erf, HF "gelu") or the tanh approximation GPT-NeoX trains with; one tape node each. */
export function gelu(x: tf.Tensor, kind: GPTNeoXConfig["gelu"]): tf.Tensor {
  return kind === "erf" ? geluErf(x) : geluTanh(x);
}

/** `x·Φ(x)`, Φ(x) = (1 + erf(x/√2))/2; d/dx = Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π). */
const geluErf = customOp<tf.Tensor>((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, [xs, phi]: tf.Tensor[]) =>
      tf.tidy(() => {
        const xv = xs as tf.Tensor;
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(xv), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(dy, tf.add(phi as tf.Tensor, tf.mul(xv, pdf)));
      }),
  };
});

/** `x·(1 + tanh(u))/2`, u = √(2/π)·(x + 0.044715·x³); d/dx = (1 + t)/2 + x·(1 − t²)/2·√(2/π)·(1 + 3·0.044715·x²). */
const geluTanh = customOp<tf.Tensor>((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const c = Math.sqrt(2 / Math.PI);
  const t = tf.tanh(tf.mul(x, tf.add(tf.mul(tf.square(x), c * 0.044715), c)));
  save([x, t]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)),
    gradFunc: (dy: tf.Tensor, [xs, ts]: tf.Tensor[]) =>
      tf.tidy(() => {
        const xv = xs as tf.Tensor;
        const tv = ts as tf.Tensor;
        const du = tf.add(tf.mul(tf.square(xv), 3 * 0.044715 * c), c); // du/dx
        const slope = tf.add(
          tf.mul(tf.add(tv, 1), 0.5),
          tf.mul(tf.mul(tf.mul(xv, 0.5), tf.sub(1, tf.square(tv))), du),
        );
        return tf.mul(dy, slope);
      }),
  };
});
