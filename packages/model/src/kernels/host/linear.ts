/**
 * `x·Wᵀ (+ b)` on the host-memory backends (wasm, cpu, tfjs-node).
 *
 * Matrix products. The wasm backend runs `matMul` through XNNPACK only for a plain 2-D `[M, K]·[K, N]`
 * product (no transpose flag, batch 1); any other form (`transposeA`/`transposeB`, batched 3-D/4-D)
 * takes a naive loop about 10× slower (tfjs-backend-wasm `batch_mat_mul_impl.cc`). So the products
 * below transpose an operand explicitly (`kernels/transpose2d.ts`; a copy, cheap next to the product),
 * and their gradients, which tfjs would compute with the transpose flags, are written out the same way.
 */
import * as tf from "@tensorflow/tfjs-core";
import { customOp, rows2d, sumRows, type CustomOp } from "../custom-op.js";
import { transpose2d } from "./transpose2d.js";
import { wideProduct } from "./wide-product.js";

/**
 * `x·Wᵀ (+ b)` for `x` `[..., in]` and a PyTorch-layout weight `[out, in]`, as one tape node:
 * dx = dy·W, dW = dyᵀ·x, db = Σ dy. The reshapes to 2-D happen inside, where they are not recorded (a
 * recorded reshape keeps a copy of its input for the backward pass on the wasm backend).
 */
function linearOp(withBias: boolean): CustomOp<tf.Tensor> {
  return customOp<tf.Tensor>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const w = args[1] as tf.Tensor2D;
    const b = withBias ? (args[2] as tf.Tensor1D) : undefined;
    const save = args[withBias ? 3 : 2] as tf.GradSaveFunc;
    const x2d = tf.reshape(x, rows2d(x.shape)) as tf.Tensor2D; // [N, in]
    const out = w.shape[0];
    // A variable outlives the step, so the backward pass can use it directly; anything else is saved
    // (which copies it on the wasm backend).
    const saveWeight = !(w instanceof tf.Variable);
    save(saveWeight ? [x2d, w] : [x2d]);
    let y: tf.Tensor2D; // [N, out]
    if (x2d.shape[0] < FEW_ROWS) {
      // A few rows (incremental decoding): transposing the weight would cost more than the slow product.
      y = tf.matMul(x2d, w, false, true);
      y = b === undefined ? y : tf.add(y, b);
    } else if (b !== undefined) {
      y = tf.fused.matMul({ a: x2d, b: transpose2d(w), bias: b }) as tf.Tensor2D;
    } else if (out >= 4 * x2d.shape[0] && x2d.shape[1] >= 256) {
      // A weight much wider than the batch (the unembedding): keep the small operand on the right.
      y = wideProduct(x2d, w);
    } else {
      y = tf.matMul(x2d, transpose2d(w));
    }
    return {
      value: tf.reshape(y, [...x.shape.slice(0, -1), out]),
      gradFunc: (dy: tf.Tensor, [xs, saved]: tf.Tensor[]) =>
        tf.tidy(() => {
          const ws = saveWeight ? (saved as tf.Tensor2D) : w;
          const dy2d = tf.reshape(dy, [-1, out]) as tf.Tensor2D; // [N, out]
          const grads = [
            tf.reshape(matMulLongK(dy2d, ws as tf.Tensor2D), x.shape), // dx
            tf.matMul(transpose2d(dy2d), xs as tf.Tensor2D), // dW [out, in]
          ];
          return b === undefined ? grads : [...grads, sumRows(dy2d)];
        }),
    };
  });
}
const linearWithBias = linearOp(true);
const linearNoBias = linearOp(false);

/**
 * `a·b` for `a` `[M, K]`, `b` `[K, N]`. XNNPACK runs the whole K loop per output tile, which for a long
 * K (the vocabulary, in the unembedding's backward pass) streams both panels from memory at half speed
 * (16 vs 32 GFLOP/s on one thread); so a long K is cut into blocks, each product `a[:, k]·b[k, :]` summed.
 * The column blocks of `a` are cut on the host (one copy; a strided slice is much slower on wasm).
 */
function matMulLongK(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [M, K] = a.shape;
  const N = b.shape[1];
  const block = 4096;
  if (K < 4 * block) {
    return tf.matMul(a, b);
  }
  return tf.tidy(() => {
    const aValues = a.dataSync() as Float32Array;
    const bValues = b.dataSync() as Float32Array;
    let sum: tf.Tensor2D | null = null;
    for (let k0 = 0; k0 < K; k0 += block) {
      const width = Math.min(block, K - k0);
      const aBlock = new Float32Array(M * width);
      for (let m = 0; m < M; m++) {
        aBlock.set(aValues.subarray(m * K + k0, m * K + k0 + width), m * width);
      }
      const product: tf.Tensor2D = tf.matMul(
        tf.tensor2d(aBlock, [M, width]),
        tf.tensor2d(bValues.subarray(k0 * N, (k0 + width) * N), [width, N]),
      );
      const next: tf.Tensor2D = sum === null ? product : tf.add(sum, product);
      if (sum !== null) {
        tf.dispose([sum, product]);
      }
      sum = next;
    }
    return sum as tf.Tensor2D;
  });
}

/** Below this many rows `linear` uses tfjs' own (transposing, slow-path) product, see there. */
const FEW_ROWS = 8;

/** `x·Wᵀ + b` for `x` `[..., in]` and a PyTorch-layout weight `[out, in]`. */
export function linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor | undefined): T {
  return (bias === undefined ? linearNoBias(x, weight) : linearWithBias(x, weight, bias)) as T;
}
