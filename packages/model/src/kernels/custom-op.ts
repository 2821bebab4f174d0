/**
 * Helpers shared by every backend's kernels: `tf.customGrad` ops with hand-written backward passes,
 * and the shape arithmetic they need.
 */
import * as tf from "@tensorflow/tfjs-core";

/** A `tf.customGrad` op: the forward returns `value` and the `gradFunc` written out by hand. */
export type CustomOp<T extends tf.Tensor> = (...inputs: tf.Tensor[]) => T;

/** Wraps a `{ value, gradFunc }` function as a `tf.customGrad` op. */
export function customOp<T extends tf.Tensor>(f: unknown): CustomOp<T> {
  return tf.customGrad(f as Parameters<typeof tf.customGrad>[0]) as unknown as CustomOp<T>;
}

/** Shape `[..., last]` flattened to `[rows, last]`. */
export function rows2d(shape: readonly number[]): [number, number] {
  const last = shape[shape.length - 1] as number;
  return [shape.reduce((a, b) => a * b, 1) / last, last];
}

/**
 * Column sums `[C]` of `x` `[N, C]` as the product `1ᵀ·x`: the wasm backend reduces over a leading axis
 * by transposing first, which is several times slower than the matrix product; on a GPU the product
 * is a well-tiled kernel too.
 */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]);
}
