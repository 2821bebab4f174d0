/**
 * A 2-D transpose for the tfjs wasm backend, which needs explicit transposes to keep matrix products
 * on XNNPACK (see `gpt-neox.ts`).
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * `xᵀ` for 2-D `x`. The wasm transpose kernel writes a large matrix column by column (~8 ns per element
 * for `[2048, 50304]`); transposing 8-row blocks first and then interleaving whole 8-float runs touches
 * memory in order and is about 5× faster.
 */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [rows, cols] = x.shape;
  const block = 8;
  if (rows % block !== 0 || rows * cols < 1 << 14) {
    return tf.transpose(x);
  }
  const blocks = tf.transpose(tf.reshape(x, [rows / block, block, cols]), [0, 2, 1]); // [rows/8, cols, 8]
  const out: tf.Tensor2D = tf.reshape(tf.transpose(blocks, [1, 0, 2]), [cols, rows]);
  blocks.dispose(); // free it now: the caller's scope may hold on for a while (the logits are large)
  return out;
}
