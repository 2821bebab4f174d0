/**
 * `x·Wᵀ` for a weight much wider than `x` is tall (the unembedding), on the tfjs wasm backend.
 * Symbols: N rows of x, C its width (the weight's `in`), out the weight's rows.
 */
import * as tf from "@tensorflow/tfjs-core";
import { transpose2d } from "./transpose2d.js";

/** Above this many output elements the product is made in blocks of `WIDE_BLOCK_ROWS` rows. */
const WIDE_BLOCK_ELEMENTS = 1 << 26;
const WIDE_BLOCK_ROWS = 512;

/**
 * `x·Wᵀ` `[N, out]` for `x` `[N, C]` and `W` `[out, C]`, computed as `(W·xᵀ)ᵀ`: XNNPACK streams its
 * packed right operand once per few rows of the left one, so the small operand goes on the right (1.4×
 * faster for pythia-70m's logits, 1.8× for 410m's). That needs the `[out, N]` product, its transpose and
 * the transpose's intermediate at once, so a large result (more than 2^26 elements) is made in blocks of
 * 512 rows of x and concatenated: for pythia-410m's logits at T = 2048, 0.8 GB at the peak instead of
 * 1.2 GB. Each output element is the same dot product either way, so blocking does not change the result.
 *
 * @param blockRows rows of x per block; defaults to all of them for a small result, 512 for a large one.
 */
export function wideProduct(x: tf.Tensor2D, w: tf.Tensor2D, blockRows?: number): tf.Tensor2D {
  const [N, C] = x.shape;
  const out = w.shape[0];
  const rows = blockRows ?? (N * out > WIDE_BLOCK_ELEMENTS ? WIDE_BLOCK_ROWS : N);
  const product = (block: tf.Tensor2D): tf.Tensor2D =>
    tf.tidy(() => {
      const wx: tf.Tensor2D = tf.matMul(w, transpose2d(block)); // [out, rows]
      const part = transpose2d(wx); // [rows, out]
      wx.dispose();
      return part;
    });
  if (rows >= N) {
    return product(x);
  }
  // Blocks of rows are cut on the host: one copy, where a wasm slice copies its whole input per block.
  const values = x.dataSync() as Float32Array;
  const parts: tf.Tensor2D[] = [];
  for (let r0 = 0; r0 < N; r0 += rows) {
    const r1 = Math.min(N, r0 + rows);
    const block = tf.tensor2d(values.subarray(r0 * C, r1 * C), [r1 - r0, C]); // [rows, C]
    parts.push(product(block));
    block.dispose();
  }
  const y: tf.Tensor2D = tf.concat(parts, 0); // [N, out]
  tf.dispose(parts);
  return y;
}
