/**
 * Rotary position embeddings (GPT-NeoX rotate-half on the first r dims of each head) and the head
 * split of the fused QKV projection (every backend). Symbols: B batch, T tokens, nh heads, hs head
 * size, r rotary dims.
 */
import * as tf from "@tensorflow/tfjs-core";
import { headSize, rotaryDims, type GPTNeoXConfig } from "../config.js";
import { customOp } from "./custom-op.js";

/**
 * cos and sin tables `[B, 1, T, r]` for the given positions: `inv_freq = θ^(−2i/r)`, angles
 * duplicated over both halves (`cat(freqs, freqs)`) for rotate-half.
 */
export function rotaryTables(
  config: GPTNeoXConfig,
  positions: tf.Tensor2D | ArrayLike<number>,
  shape?: [number, number],
): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const r = rotaryDims(config);
  const invFreq = new Float32Array(r / 2);
  for (let i = 0; i < r / 2; i++) {
    invFreq[i] = 1 / Math.pow(config.rotaryEmbBase, (2 * i) / r);
  }
  if (!(positions instanceof tf.Tensor)) {
    return hostTables(invFreq, positions, shape ?? [1, positions.length]);
  }
  const halves = tf.tensor1d(invFreq); // [r/2]
  const angles = tf.mul(tf.expandDims(tf.cast(positions, "float32"), -1), halves); // [B, T, r/2]
  const full = tf.concat([angles, angles], -1); // [B, T, r]
  const [B, T] = positions.shape;
  return {
    cos: tf.reshape(tf.cos(full), [B, 1, T, r]),
    sin: tf.reshape(tf.sin(full), [B, 1, T, r]),
  };
}

/**
 * The tables computed on the host from positions `[B·T]` in host memory: the angle is rounded to float32
 * as torch computes it, then cos and sin are taken in double precision. GPU `sin`/`cos` may be much
 * less accurate (Vulkan allows an absolute error of 2⁻¹¹), which alone moves logits by ~4e-4.
 */
function hostTables(
  invFreq: Float32Array,
  positions: ArrayLike<number>,
  [B, T]: [number, number],
): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const half = invFreq.length;
  const r = 2 * half;
  const cos = new Float32Array(B * T * r);
  const sin = new Float32Array(B * T * r);
  for (let n = 0; n < B * T; n++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((positions[n] as number) * (invFreq[i] as number));
      cos[n * r + i] = cos[n * r + half + i] = Math.cos(angle);
      sin[n * r + i] = sin[n * r + half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor4d(cos, [B, 1, T, r]), sin: tf.tensor4d(sin, [B, 1, T, r]) };
}

/**
 * The fused QKV projection `[B, T, 3C]` split into heads, with rotary embeddings (GPT-NeoX rotate-half
 * on the first r dims of each head) on q and k: `[3, B, nh, T, hs]` (q, k, v). One tape node.
 *
 * Slicing is slow on the wasm backend (every `slice`/`split` output copies its whole input to JS first,
 * `concat` loops over rows in JS), so instead of splitting halves, rotate-half is a product with a
 * signed permutation matrix `R` `[hs, hs]`, applied to the q, k and v "planes" at once with per-plane
 * tables (cos 1, sin 0 on v and on the pass-through dims): `y = x∘cos + (x·R)∘sin`; its backward is
 * `dx = dy∘cos + (dy∘sin)·Rᵀ = dy∘cos − (dy∘sin)·R` (R is antisymmetric). The head split is two
 * transposes.
 */
export function splitHeadsRotary(
  qkv: tf.Tensor3D,
  config: GPTNeoXConfig,
  rope: { cos: tf.Tensor4D; sin: tf.Tensor4D },
): tf.Tensor5D {
  const [B, T] = qkv.shape;
  const nh = config.numHeads;
  const hs = headSize(config);
  const r = rotaryDims(config);
  // [B, 1, T, r] tables → [B, T, 1, 3, hs]: rotary dims of q and k, identity elsewhere.
  const planes = (table: tf.Tensor4D, fill: number) => {
    const qk = tf.concat([tf.reshape(table, [B, T, 1, 1, r]), tf.fill([B, T, 1, 1, hs - r], fill)], -1);
    return tf.concat([qk, qk, tf.fill([B, T, 1, 1, hs], fill)], 3);
  };
  const op = customOp<tf.Tensor5D>(
    (x: tf.Tensor3D, cos: tf.Tensor4D, sin: tf.Tensor4D, save: tf.GradSaveFunc) => {
      const cosPlanes = planes(cos, 1);
      const sinPlanes = planes(sin, 0);
      const R = rotateHalfMatrix(hs, r);
      // Rows of the fused weight are grouped per head: head h owns [q_h (hs) | k_h (hs) | v_h (hs)].
      const x5 = tf.reshape(x, [B, T, nh, 3, hs]);
      const rotated = tf.reshape(tf.matMul(tf.reshape(x5, [-1, hs]), R), [B, T, nh, 3, hs]);
      const y = tf.add(tf.mul(x5, cosPlanes), tf.mul(rotated, sinPlanes)); // [B, T, nh, 3, hs]
      save([cosPlanes, sinPlanes, R]);
      return {
        value: headsFirst(y, B, T, nh, hs), // [3, B, nh, T, hs]
        gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [c, s, rot] = saved as [tf.Tensor, tf.Tensor, tf.Tensor2D];
            const d = headsLast(dy, B, T, nh, hs); // [B, T, nh, 3, hs]
            const back = tf.reshape(tf.matMul(tf.reshape(tf.mul(d, s), [-1, hs]), rot), d.shape); // (dy∘sin)·R
            const dx = tf.reshape(tf.sub(tf.mul(d, c), back), [B, T, 3 * nh * hs]);
            return [dx, tf.zerosLike(cos), tf.zerosLike(sin)];
          }),
      };
    },
  );
  return op(qkv, rope.cos, rope.sin);
}

/**
 * `[hs, hs]` matrix with `x·R = rotate_half(x)` on the first r dims and 0 on the rest: column j < r/2
 * takes −x[j + r/2], column r/2 ≤ j < r takes x[j − r/2]. It is antisymmetric: `Rᵀ = −R`.
 */
function rotateHalfMatrix(hs: number, r: number): tf.Tensor2D {
  const values = new Float32Array(hs * hs);
  for (let j = 0; j < r / 2; j++) {
    values[(j + r / 2) * hs + j] = -1;
    values[j * hs + j + r / 2] = 1;
  }
  return tf.tensor2d(values, [hs, hs]);
}

/** `[B, T, nh, 3, hs]` → `[3, B, nh, T, hs]` with two 4-D transposes. */
function headsFirst(y: tf.Tensor, B: number, T: number, nh: number, hs: number): tf.Tensor5D {
  const perHead = tf.transpose(tf.reshape(y, [B, T, nh * 3, hs]), [0, 2, 1, 3]); // [B, nh·3, T, hs]
  return tf.reshape(tf.transpose(tf.reshape(perHead, [B, nh, 3, T * hs]), [2, 0, 1, 3]), [3, B, nh, T, hs]);
}

/** The inverse of `headsFirst`. */
function headsLast(y: tf.Tensor, B: number, T: number, nh: number, hs: number): tf.Tensor5D {
  const perHead = tf.transpose(tf.reshape(y, [3, B, nh, T * hs]), [1, 2, 0, 3]); // [B, nh, 3, T·hs]
  return tf.reshape(tf.transpose(tf.reshape(perHead, [B, nh * 3, T, hs]), [0, 2, 1, 3]), [B, T, nh, 3, hs]);
}
