/**
 * The kernels the model is written against, one set per kind of backend, picked by the backend that
 * runs (docs/decisions/0011-webgpu-is-the-gpu-path.md):
 * - `host` (wasm, cpu, tfjs-node): tensors live in host memory, so these may cut and copy on the host
 *   (per-head 2-D products, blocked transposes) to stay on XNNPACK's fast paths;
 * - `device` (tfjs-node-gpu): generic tfjs ops and no host round-trips;
 * - `webgpu`: the device set with WGSL kernels for attention (flash-style, no `[T, T]` scores per head
 *   at once), the fused cross-entropy and the embedding gradient.
 * Symbols: B batch, T queries, S keys, nh heads, hs head size, C hidden size, V vocabulary, N rows.
 */
import * as tf from "@tensorflow/tfjs-core";
import { computeInfo } from "../compute.js";
import { embed } from "./embedding.js";
import * as host from "./host/index.js";
import * as device from "./device/index.js";
import * as webgpu from "./webgpu/index.js";

/** One backend's implementations of the model's heavy operations (each records its own gradient). */
export interface ModelKernels {
  readonly kind: "host" | "device" | "webgpu";
  /** `x·Wᵀ (+ b)` for `x` `[..., in]` and a PyTorch-layout weight `[out, in]`. */
  linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor | undefined): T;
  /**
   * `softmax(q·kᵀ/√hs + bias)·v` on `[3, B, nh, T, hs]` (q, k, v stacked), heads merged: `[B, T, C]`.
   * `causal` says the bias is the plain causal mask (no padding), which lets a kernel skip it.
   */
  selfAttention(qkvHeads: tf.Tensor5D, bias: tf.Tensor4D, causal: boolean): tf.Tensor3D;
  /** The same with separate `q` `[B, nh, T, hs]` and `key`/`value` `[B, nh, S, hs]` (a cache). */
  attend(q: tf.Tensor4D, key: tf.Tensor4D, value: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor3D;
  /** Row-wise `(logsumexp(x[r]) − x.flat[flatTargets[r]])·valid[r]` for `x` taken as `[N, V]`. */
  crossEntropyRows(x: tf.Tensor, flatTargets: tf.Tensor1D, valid: tf.Tensor1D): tf.Tensor1D;
  /** Rows of the embedding table `[V, C]` for `ids` `[B, T]`: `[B, T, C]`. */
  embed(table: tf.Tensor, ids: tf.Tensor2D): tf.Tensor3D;
}

const hostKernels: ModelKernels = {
  kind: "host",
  linear: host.linear,
  selfAttention: (qkvHeads, bias) => host.selfAttention(qkvHeads, bias),
  attend: host.scaledDotProductAttention,
  crossEntropyRows: host.crossEntropyRows,
  embed,
};

const deviceKernels: ModelKernels = {
  kind: "device",
  linear: device.linear,
  selfAttention: (qkvHeads, bias) => device.selfAttention(qkvHeads, bias),
  attend: device.scaledDotProductAttention,
  crossEntropyRows: device.crossEntropyRows,
  embed,
};

const webgpuKernels: ModelKernels = {
  kind: "webgpu",
  linear: device.linear,
  selfAttention: (qkvHeads, bias, causal) =>
    causal ? webgpu.flashSelfAttention(qkvHeads) : device.selfAttention(qkvHeads, bias),
  attend: device.scaledDotProductAttention,
  crossEntropyRows: webgpu.crossEntropyRows,
  embed: webgpu.embed,
};

/** The kernel set for the active tfjs backend. */
export function modelKernels(): ModelKernels {
  const backend = tf.getBackend();
  if (backend === "webgpu") {
    return webgpuKernels;
  }
  if (backend === "tensorflow" && computeInfo()?.backend === "tfjs-node-gpu") {
    return deviceKernels;
  }
  return hostKernels;
}
