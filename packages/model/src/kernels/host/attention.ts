/**
 * Attention on the host-memory backends: one 2-D product per (batch, head), the wasm fast path.
 * Symbols: B batch, nh heads, T queries, S keys, hs head size.
 */
import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "../custom-op.js";
import { transpose2d } from "./transpose2d.js";

/**
 * `softmax(q·kᵀ/√hs + bias)·v` for `q` `[B, nh, T, hs]`, `key`/`value` `[B, nh, S, hs]`, `bias`
 * `[B or 1, 1, T, S]`, with the heads merged: `[B, T, nh·hs]`. Beyond a few query tokens this is one
 * tape node that runs one 2-D product per (batch, head) (the wasm backend's fast path, see `linear`)
 * and keeps only its inputs and the probabilities for its hand-written backward pass; for a few tokens
 * (incremental decoding) the batched product is cheaper than B·nh kernel launches.
 */
export function scaledDotProductAttention(
  q: tf.Tensor4D,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
  bias: tf.Tensor4D,
): tf.Tensor3D {
  const [B, nh, T, hs] = q.shape;
  if (T < PER_HEAD_MIN_TOKENS) {
    const scores = tf.add(tf.mul(tf.matMul(q, key, false, true), 1 / Math.sqrt(hs)), bias); // [B, nh, T, S]
    const context = tf.matMul(tf.softmax(scores, -1), value); // [B, nh, T, hs]
    return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [B, T, nh * hs]);
  }
  const S = key.shape[2];
  const op = customOp<tf.Tensor3D>(
    (qIn: tf.Tensor4D, kIn: tf.Tensor4D, vIn: tf.Tensor4D, save: tf.GradSaveFunc) => {
      return perHeadAttention(qIn, kIn, vIn, bias, save, (dq, dk, dv) => [
        tf.reshape(dq, [B, nh, T, hs]),
        tf.reshape(dk, [B, nh, S, hs]),
        tf.reshape(dv, [B, nh, S, hs]),
      ]);
    },
  );
  return op(q, key, value);
}

/** `scaledDotProductAttention` without a cache, on `splitHeadsRotary`'s `[3, B, nh, T, hs]` directly. */
export function selfAttention(qkvHeads: tf.Tensor5D, bias: tf.Tensor4D): tf.Tensor3D {
  const [, B, nh, T, hs] = qkvHeads.shape;
  if (T < PER_HEAD_MIN_TOKENS) {
    const [q, k, v] = tf.unstack(qkvHeads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]; // [B, nh, T, hs]
    return scaledDotProductAttention(q, k, v, bias);
  }
  const op = customOp<tf.Tensor3D>((x: tf.Tensor5D, save: tf.GradSaveFunc) => {
    return perHeadAttention(x, null, null, bias, save, (dq, dk, dv) => [
      tf.reshape(tf.concat([dq, dk, dv]), [3, B, nh, T, hs]),
    ]);
  });
  return op(qkvHeads);
}

/**
 * The forward value and gradient of per-head attention for `customOp`s. Either `q`, `k`, `v` are
 * `[B, nh, T|S, hs]`, or `k` and `v` are null and `q` is `[3, B, nh, T, hs]` (q, k, v stacked). It
 * saves those inputs and the probabilities (`save` keeps only its last call). `grads` shapes the gradients
 * `[B·nh, T|S, hs]` of q, k and v into those of the inputs.
 */
function perHeadAttention(
  q: tf.Tensor,
  k: tf.Tensor | null,
  v: tf.Tensor | null,
  bias: tf.Tensor4D,
  save: tf.GradSaveFunc,
  grads: (dq: tf.Tensor, dk: tf.Tensor, dv: tf.Tensor) => tf.Tensor[],
): { value: tf.Tensor3D; gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => tf.Tensor[] } {
  const stacked = k === null;
  const [B, nh, T, hs] = (stacked ? q.shape.slice(1) : q.shape) as [number, number, number, number];
  const S = stacked ? T : (k.shape[2] as number);
  const heads = B * nh;
  const scale = 1 / Math.sqrt(hs);
  const biasRows = bias.shape[0];
  // Per-head [rows, hs] matrices of q, k and v (q scaled), split on the host (see `splitRows`).
  const split = (qx: tf.Tensor, kx: tf.Tensor | null, vx: tf.Tensor | null) => {
    if (kx === null || vx === null) {
      const all = splitRows(qx, 3 * heads, [T, hs]) as tf.Tensor2D[];
      return { qs: all.slice(0, heads), ks: all.slice(heads, 2 * heads), vs: all.slice(2 * heads) };
    }
    return {
      qs: splitRows(qx, heads, [T, hs]) as tf.Tensor2D[],
      ks: splitRows(kx, heads, [S, hs]) as tf.Tensor2D[],
      vs: splitRows(vx, heads, [S, hs]) as tf.Tensor2D[],
    };
  };
  const { qs, ks, vs } = split(q, k, v);
  const biases = splitRows(bias, biasRows, [T, S]) as tf.Tensor2D[]; // [T, S]
  const probs = qs.map((qi, i) => {
    const bi = biases[biasRows === 1 ? 0 : Math.floor(i / nh)] as tf.Tensor2D;
    return tf.tidy(() =>
      tf.softmax(tf.add(tf.matMul(tf.mul(qi, scale), transpose2d(ks[i] as tf.Tensor2D)), bi), -1),
    ); // [T, S]
  });
  save([...(k === null || v === null ? [q] : [q, k, v]), ...probs]);
  const contexts = probs.map((p, i) => tf.matMul(p, vs[i] as tf.Tensor2D)); // [T, hs] each
  return {
    value: tf.reshape(tf.transpose(tf.reshape(tf.stack(contexts), [B, nh, T, hs]), [0, 2, 1, 3]), [
      B,
      T,
      nh * hs,
    ]),
    gradFunc: (dMerged: tf.Tensor3D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const inputs = saved.slice(0, stacked ? 1 : 3);
        const ps = saved.slice(stacked ? 1 : 3) as tf.Tensor2D[];
        const h = split(inputs[0] as tf.Tensor, inputs[1] ?? null, inputs[2] ?? null);
        const dy = tf.transpose(tf.reshape(dMerged, [B, T, nh, hs]), [0, 2, 1, 3]); // [B, nh, T, hs]
        const dys = splitRows(dy, heads, [T, hs]) as tf.Tensor2D[];
        const dq: tf.Tensor2D[] = [];
        const dk: tf.Tensor2D[] = [];
        const dv: tf.Tensor2D[] = [];
        ps.forEach((p, i) => {
          const [dqi, dki, dvi] = tf.tidy(() => {
            const d = dys[i] as tf.Tensor2D;
            const dP = tf.matMul(d, transpose2d(h.vs[i] as tf.Tensor2D)); // [T, S]
            const dS: tf.Tensor2D = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))); // softmax backward
            return [
              tf.mul(tf.matMul(dS, h.ks[i] as tf.Tensor2D), scale), // [T, hs]
              tf.mul(tf.matMul(transpose2d(dS), h.qs[i] as tf.Tensor2D), scale), // [S, hs]
              tf.matMul(transpose2d(p), d), // [S, hs]
            ];
          });
          p.dispose(); // only this node uses it: free it now rather than when the whole backward pass ends
          dq.push(dqi as tf.Tensor2D);
          dk.push(dki as tf.Tensor2D);
          dv.push(dvi as tf.Tensor2D);
        });
        return grads(tf.stack(dq), tf.stack(dk), tf.stack(dv));
      }),
  };
}

/**
 * `x` cut into `n` equal consecutive parts of shape `shape`, as separate tensors, through one copy to
 * the host: the wasm `slice` kernel (behind `split` and `unstack`) copies its whole input to JS once per
 * output. Not recorded for gradients; for use inside custom ops.
 */
function splitRows(x: tf.Tensor, n: number, shape: number[]): tf.Tensor[] {
  const values = x.dataSync() as Float32Array;
  const size = values.length / n;
  return Array.from({ length: n }, (_, i) =>
    tf.tensor(values.subarray(i * size, (i + 1) * size), shape, "float32"),
  );
}

/** Query tokens from which attention runs one 2-D product per head (see `scaledDotProductAttention`). */
const PER_HEAD_MIN_TOKENS = 16;
