/**
 * GPT-NeoX (Pythia) forward pass as pure functions over a parameter record named exactly like the
 * Hugging Face `GPTNeoXForCausalLM` state dict, so loading a checkpoint is a copy (no transposes).
 * References: HF transformers `models/gpt_neox/modeling_gpt_neox.py` (4.40), GPT-NeoX v1.0.
 *
 * Speed on the tfjs wasm backend (bench/throughput.mjs, BENCHMARKS.md): its matMul is fast (XNNPACK)
 * only as a plain 2-D product; every tape node keeps copies of the tensors its gradient needs, and tfjs
 * frees no intermediate gradient before the backward pass ends. So each block (linear, LayerNorm, GELU,
 * head split + rotary, attention, embedding, loss) is one `tf.customGrad` op with a hand-written backward
 * built from 2-D products, and the layers run in their own `tf.tidy` scopes.
 *
 * Symbols used in shape comments (once, as llm.c does): B batch, T new tokens, P cached tokens,
 * S = P + T keys, C hidden size, nh heads, hs head size, r rotary dims, I MLP width, V vocabulary.
 */
import * as tf from "@tensorflow/tfjs";
import { headSize, rotaryDims, type GPTNeoXConfig } from "./config.js";
import { transpose2d } from "./kernels/transpose2d.js";
import { wideProduct } from "./kernels/wide-product.js";

/** Parameters by HF name (`gpt_neox.layers.0.attention.query_key_value.weight`, …). */
export type ParamRecord = Readonly<Record<string, tf.Tensor>>;

/** Cached keys and values of one layer, `[B, nh, P, hs]` each. */
export interface LayerCache {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/** Options of `forward`. */
export interface ForwardOptions {
  /** `[B, S]` 1 for real tokens, 0 for padding (cached positions included); padding keys are masked out. */
  attentionMask?: tf.Tensor2D;
  /** `[B, T]` positions for rotary embeddings. @default P … P + T − 1 */
  positionIds?: tf.Tensor2D;
  /** Per-layer key/value cache from a previous call (incremental decoding). */
  cache?: readonly LayerCache[];
  /** Also return the cache including these tokens. @default false */
  returnCache?: boolean;
  /** Also return every layer's hidden states (HF `output_hidden_states`). @default false */
  outputHiddenStates?: boolean;
}

/** What `forward` returns (all tensors owned by the caller). */
export interface ForwardOutput {
  /** `[B, T, V]` */
  logits: tf.Tensor3D;
  /**
   * HF's convention: index 0 is the embedding output, index i the input of layer i, and index L the
   * output of the last layer after the final LayerNorm. Each `[B, T, C]`.
   */
  hiddenStates?: tf.Tensor3D[];
  cache?: LayerCache[];
}

/** Looks up a parameter, failing with the name when a checkpoint lacks it. */
function param(params: ParamRecord, name: string): tf.Tensor {
  const value = params[name];
  if (value === undefined) {
    throw new Error(`missing parameter ${name}`);
  }
  return value;
}

/** A `tf.customGrad` op: the forward returns `value` and the `gradFunc` written out by hand. */
type CustomOp<T extends tf.Tensor> = (...inputs: tf.Tensor[]) => T;
function customOp<T extends tf.Tensor>(f: unknown): CustomOp<T> {
  return tf.customGrad(f as Parameters<typeof tf.customGrad>[0]) as unknown as CustomOp<T>;
}

/*
 * Matrix products. The wasm backend runs `matMul` through XNNPACK only for a plain 2-D `[M, K]·[K, N]`
 * product (no transpose flag, batch 1); any other form (`transposeA`/`transposeB`, batched 3-D/4-D)
 * takes a naive loop about 10× slower (tfjs-backend-wasm `batch_mat_mul_impl.cc`). So the products
 * below transpose an operand explicitly (`kernels/transpose2d.ts`; a copy, cheap next to the product),
 * and their gradients, which tfjs would compute with the transpose flags, are written out the same way.
 */

/**
 * Column sums `[C]` of `x` `[N, C]` as the product `1ᵀ·x`: the wasm backend reduces over a leading axis
 * by transposing first, which is several times slower than the matrix product.
 */
function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]);
}

/** Shape `[..., last]` flattened to `[rows, last]`. */
function rows2d(shape: readonly number[]): [number, number] {
  const last = shape[shape.length - 1] as number;
  return [shape.reduce((a, b) => a * b, 1) / last, last];
}

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
function linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor | undefined): T {
  return (bias === undefined ? linearNoBias(x, weight) : linearWithBias(x, weight, bias)) as T;
}

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

/**
 * cos and sin tables `[B, 1, T, r]` for the given positions: `inv_freq = θ^(−2i/r)`, angles
 * duplicated over both halves (`cat(freqs, freqs)`) for rotate-half.
 */
export function rotaryTables(
  config: GPTNeoXConfig,
  positions: tf.Tensor2D,
): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const r = rotaryDims(config);
  const invFreq = new Float32Array(r / 2);
  for (let i = 0; i < r / 2; i++) {
    invFreq[i] = 1 / Math.pow(config.rotaryEmbBase, (2 * i) / r);
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
function splitHeadsRotary(
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

/** Causal masks by `T,S`, kept on the host (a tensor is made per forward): the last few shapes. */
const causalMasks = new Map<string, Float32Array>();

/** `[T, S]`: 0 where query t (absolute position S − T + t) may see key s, finfo(float32).min elsewhere. */
function causalMask(T: number, S: number): Float32Array {
  const key = `${T},${S}`;
  let mask = causalMasks.get(key);
  if (mask === undefined) {
    const P = S - T;
    mask = new Float32Array(T * S);
    for (let t = 0; t < T; t++) {
      mask.fill(-3.4028234663852886e38, t * S + P + t + 1, (t + 1) * S);
    }
    if (causalMasks.size >= 4) {
      causalMasks.delete(causalMasks.keys().next().value as string);
    }
    causalMasks.set(key, mask);
  }
  return mask;
}

/**
 * Additive attention bias `[B or 1, 1, T, S]`: 0 where query t (absolute position P + t) may see key s
 * (s ≤ P + t and not padding), a large negative number elsewhere (HF uses finfo(float32).min).
 */
function attentionBias(T: number, S: number, attentionMask: tf.Tensor2D | undefined): tf.Tensor4D {
  const bias = tf.tensor4d(causalMask(T, S), [1, 1, T, S]);
  if (attentionMask === undefined) {
    return bias;
  }
  const [B] = attentionMask.shape;
  const padding = tf.mul(
    tf.sub(1, tf.cast(tf.reshape(attentionMask, [B, 1, 1, S]), "float32")),
    -3.4028234663852886e38,
  );
  // Clip so that masked + masked stays finite (HF relies on finfo.min the same way).
  return tf.maximum(tf.add(bias, padding), -3.4028234663852886e38) as tf.Tensor4D;
}

/**
 * `softmax(q·kᵀ/√hs + bias)·v` for `q` `[B, nh, T, hs]`, `key`/`value` `[B, nh, S, hs]`, `bias`
 * `[B or 1, 1, T, S]`, with the heads merged: `[B, T, nh·hs]`. Beyond a few query tokens this is one
 * tape node that runs one 2-D product per (batch, head) (the wasm backend's fast path, see `linear`)
 * and keeps only its inputs and the probabilities for its hand-written backward pass; for a few tokens
 * (incremental decoding) the batched product is cheaper than B·nh kernel launches.
 */
function scaledDotProductAttention(
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
function selfAttention(qkvHeads: tf.Tensor5D, bias: tf.Tensor4D): tf.Tensor3D {
  const [, B, nh, T, hs] = qkvHeads.shape;
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

/** One attention block on normalised input `h` `[B, T, C]`; returns `[B, T, C]` and this layer's cache. */
function attention(
  params: ParamRecord,
  config: GPTNeoXConfig,
  layer: number,
  h: tf.Tensor3D,
  rope: { cos: tf.Tensor4D; sin: tf.Tensor4D },
  bias: tf.Tensor4D,
  cache: LayerCache | undefined,
  returnCache: boolean,
): { out: tf.Tensor3D; cache?: LayerCache } {
  const prefix = `gpt_neox.layers.${layer}.attention`;
  const qkv = linear(
    h,
    param(params, `${prefix}.query_key_value.weight`),
    params[`${prefix}.query_key_value.bias`],
  ); // [B, T, 3C]
  const heads = splitHeadsRotary(qkv, config, rope); // [3, B, nh, T, hs]
  const dense = (context: tf.Tensor3D) =>
    linear(context, param(params, `${prefix}.dense.weight`), params[`${prefix}.dense.bias`]); // [B, T, C]
  if (cache === undefined && !returnCache && h.shape[1] >= PER_HEAD_MIN_TOKENS) {
    return { out: dense(selfAttention(heads, bias)) };
  }
  const [q, kNew, v] = tf.unstack(heads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]; // [B, nh, T, hs]
  const key = cache === undefined ? kNew : (tf.concat([cache.key, kNew], 2) as tf.Tensor4D); // [B, nh, S, hs]
  const value = cache === undefined ? v : (tf.concat([cache.value, v], 2) as tf.Tensor4D); // [B, nh, S, hs]
  return { out: dense(scaledDotProductAttention(q, key, value, bias)), cache: { key, value } };
}

/** The MLP block on normalised input `h` `[B, T, C]` → `[B, T, C]`. */
function mlp(params: ParamRecord, config: GPTNeoXConfig, layer: number, h: tf.Tensor3D): tf.Tensor3D {
  const prefix = `gpt_neox.layers.${layer}.mlp`;
  const up = linear(
    h,
    param(params, `${prefix}.dense_h_to_4h.weight`),
    params[`${prefix}.dense_h_to_4h.bias`],
  ); // [B, T, I]
  return linear(
    gelu(up, config.gelu) as tf.Tensor3D,
    param(params, `${prefix}.dense_4h_to_h.weight`),
    params[`${prefix}.dense_4h_to_h.bias`],
  ); // [B, T, C]
}

/**
 * Rows of the embedding table `[V, C]` for `ids` `[B, T]`: `[B, T, C]`. One tape node that keeps only
 * the ids (tfjs' gather gradient keeps the whole table, a copy of it on the wasm backend); the gradient
 * is the rows of dy summed into a `[V, C]` table.
 */
function embed(table: tf.Tensor, ids: tf.Tensor2D): tf.Tensor3D {
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

/**
 * Logits for `inputIds` `[B, T]` (int32). Runs inside `tf.tidy`; returned tensors are the caller's to
 * dispose. With `cache`, `inputIds` are the new tokens only and positions continue after the cache.
 */
export function forward(
  params: ParamRecord,
  config: GPTNeoXConfig,
  inputIds: tf.Tensor2D,
  options: ForwardOptions = {},
): ForwardOutput {
  return tf.tidy(() => {
    const [B, T] = inputIds.shape;
    const P = options.cache?.[0]?.key.shape[2] ?? 0;
    const positions =
      options.positionIds ??
      (tf.tile(tf.reshape(tf.range(P, P + T, 1, "int32"), [1, T]), [B, 1]) as tf.Tensor2D); // [B, T]
    const rope = rotaryTables(config, positions);
    const bias = attentionBias(T, P + T, options.attentionMask); // [B|1, 1, T, S]
    let x = embed(param(params, "gpt_neox.embed_in.weight"), tf.cast(inputIds, "int32")); // [B, T, C]
    const hiddenStates: tf.Tensor3D[] = [];
    const newCache: LayerCache[] = [];
    const eps = config.layerNormEps;
    for (let layer = 0; layer < config.numLayers; layer++) {
      if (options.outputHiddenStates) {
        hiddenStates.push(x);
      }
      const input = x;
      const prefix = `gpt_neox.layers.${layer}`;
      // A scope per layer frees its intermediates as soon as the layer is done (under a gradient tape,
      // what the backward pass needs is kept by the tape), so inference holds one layer's worth.
      const result = tf.tidy(() => {
        const ln1 = layerNorm(
          input,
          param(params, `${prefix}.input_layernorm.weight`),
          param(params, `${prefix}.input_layernorm.bias`),
          eps,
        ) as tf.Tensor3D;
        const attn = attention(
          params,
          config,
          layer,
          ln1,
          rope,
          bias,
          options.cache?.[layer],
          options.returnCache ?? false,
        );
        const post = (h: tf.Tensor3D) =>
          layerNorm(
            h,
            param(params, `${prefix}.post_attention_layernorm.weight`),
            param(params, `${prefix}.post_attention_layernorm.bias`),
            eps,
          ) as tf.Tensor3D;
        let out: tf.Tensor3D;
        if (config.useParallelResidual) {
          out = tf.add(tf.add(input, attn.out), mlp(params, config, layer, post(input))) as tf.Tensor3D; // [B, T, C]
        } else {
          const mid = tf.add(input, attn.out) as tf.Tensor3D; // [B, T, C]
          out = tf.add(mid, mlp(params, config, layer, post(mid))) as tf.Tensor3D;
        }
        return attn.cache !== undefined && options.returnCache
          ? { out, key: attn.cache.key, value: attn.cache.value }
          : { out };
      }) as { out: tf.Tensor3D; key?: tf.Tensor4D; value?: tf.Tensor4D };
      if (result.key !== undefined && result.value !== undefined) {
        newCache.push({ key: result.key, value: result.value });
      }
      if (!options.outputHiddenStates) {
        input.dispose();
      }
      x = result.out;
    }
    const final = layerNorm(
      x,
      param(params, "gpt_neox.final_layer_norm.weight"),
      param(params, "gpt_neox.final_layer_norm.bias"),
      eps,
    ) as tf.Tensor3D; // [B, T, C]
    if (options.outputHiddenStates) {
      hiddenStates.push(final);
    }
    const unembed = config.tieWordEmbeddings
      ? param(params, "gpt_neox.embed_in.weight")
      : param(params, "embed_out.weight"); // [V, C]
    const logits = linear(final, unembed, undefined); // [B, T, V]
    const out: ForwardOutput = { logits };
    if (options.outputHiddenStates) {
      out.hiddenStates = hiddenStates;
    }
    if (options.returnCache) {
      out.cache = newCache;
    }
    return out as unknown as tf.TensorContainer;
  }) as unknown as ForwardOutput;
}

/**
 * Mean next-token cross-entropy, HF's definition: over all B·(T−1) pairs (logits[b, t], labels[b, t+1]),
 * skipping labels equal to −100. `labels` defaults to `inputIds`. Returns per-pair losses too (`[B, T−1]`,
 * 0 where ignored). Uses log-sum-exp minus a gathered logit, so no one-hot over the vocabulary is built,
 * and a hand-written gradient (softmax − one-hot, the one-hot applied as a scatter) so that the backward
 * pass makes no more copies of the `[B·T, V]` logits than it must.
 */
export function nextTokenLoss(
  logits: tf.Tensor3D,
  labels: tf.Tensor2D,
): { loss: tf.Scalar; tokenLosses: tf.Tensor2D } {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const N = B * T;
    // Position t predicts label t + 1; the last position of each row predicts nothing (−100), so the
    // logits are used in place, without slicing off the last position (a copy of [B, T−1, V]).
    const ids = tf.cast(labels, "int32");
    const targets = tf.reshape(
      tf.concat([tf.slice(ids, [0, 1], [B, T - 1]), tf.fill([B, 1], -100, "int32")], 1),
      [N],
    ); // [N]
    const keep = tf.notEqual(targets, -100); // [N]
    const valid = tf.cast(keep, "float32"); // [N]
    const flatTargets = tf.add(
      tf.mul(tf.range(0, N, 1, "int32"), tf.scalar(V, "int32")),
      tf.where(keep, targets, tf.zerosLike(targets)),
    ) as tf.Tensor1D; // [N] indices into the flattened logits
    const perPosition = crossEntropyRows(logits, flatTargets, valid as tf.Tensor1D); // [N]
    const loss = tf.div(tf.sum(perPosition), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
    const tokenLosses = tf.slice(tf.reshape(perPosition, [B, T]), [0, 0], [B, T - 1]) as tf.Tensor2D;
    return { loss, tokenLosses };
  });
}

/**
 * Row-wise `(logsumexp(x[r]) − x.flat[flatTargets[r]])·valid[r]` for `x` `[..., V]` taken as N rows,
 * with the gradient `(softmax(x[r]) − onehot(target r))·valid[r]·dy[r]`. On the wasm backend `exp` is a
 * scalar loop (~7 ns per element) while `softmax` is XNNPACK's vectorised kernel (~1.3 ns), so
 * log-sum-exp is taken from the softmax: the largest probability is `exp(0) / Σ exp(x − max)`, hence
 * `logsumexp = max − log(max(softmax))`, exact and never underflowing (that probability is ≥ 1/V).
 * The probabilities are kept for the backward pass instead of recomputing them.
 */
function crossEntropyRows(x: tf.Tensor, flatTargets: tf.Tensor1D, valid: tf.Tensor1D): tf.Tensor1D {
  const op = customOp<tf.Tensor1D>((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const logits = tf.reshape(input, rows2d(input.shape)) as tf.Tensor2D; // [N, V], reshaped off the tape
    const probs = tf.softmax(logits, -1); // [N, V]
    const lse = tf.sub(tf.max(logits, -1), tf.log(tf.max(probs, -1))); // [N]
    const picked = tf.gather(tf.reshape(logits, [-1]), flatTargets); // [N]
    save([probs, flatTargets, valid]);
    return {
      value: tf.mul(tf.sub(lse, picked), valid),
      gradFunc: (dy: tf.Tensor1D, [p, targets, keep]: tf.Tensor[]) =>
        tf.tidy(() => {
          const scale = tf.mul(dy, keep as tf.Tensor1D); // [N]
          const scaled = tf.reshape(tf.mul(p as tf.Tensor2D, tf.reshape(scale, [-1, 1])), [-1]); // [N·V]
          (p as tf.Tensor).dispose(); // only this node uses it: free it now, not when the backward pass ends
          const atTargets = tf.sub(tf.gather(scaled, targets as tf.Tensor1D), scale); // [N]
          const grad = tf.tensorScatterUpdate(scaled, tf.reshape(targets as tf.Tensor1D, [-1, 1]), atTargets);
          scaled.dispose();
          return tf.reshape(grad, input.shape);
        }),
    };
  });
  return op(x);
}
