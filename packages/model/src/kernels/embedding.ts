/** The embedding lookup with a gradient that keeps only the ids (every backend but webgpu, see there). */
import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./custom-op.js";

/**
 * Rows of the embedding table `[V, C]` for `ids` `[B, T]`: `[B, T, C]`. One tape node that keeps only
 * the ids (tfjs' gather gradient keeps the whole table, a copy of it on the wasm backend); the gradient
 * is the rows of dy summed into a `[V, C]` table.
 */
export function embed(table: tf.Tensor, ids: tf.Tensor2D): tf.Tensor3D {
  const [V] = table.shape as [number, number];
  const op = customOp<tf.Tensor3D>((w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(w, ids) as unknown as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, [saved]: tf.Tensor[]) =>
        tf.tidy(() =>
          tf.unsortedSegmentSum(
            tf.reshape(dy, [-1, dy.shape[2]]),
            tf.reshape(saved as tf.Tensor, [-1]) as tf.Tensor1D,
            V,
          ),
        ),
    };
  });
  return op(table);
}
