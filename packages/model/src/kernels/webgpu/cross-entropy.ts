/**
 * Cross-entropy over the vocabulary fused with log-softmax, in WGSL: the forward pass reads each row of
 * logits twice (max, then Σ exp) and keeps only the row's log-sum-exp; the backward pass writes
 * `(exp(x − lse) − onehot)·scale` in one pass. No `[N, V]` probabilities are stored between them.
 * Symbols: N rows, V vocabulary.
 */
import * as tf from "@tensorflow/tfjs-core";
import { customOp, rows2d } from "../custom-op.js";
import { groups, runProgram, type WgslProgram } from "./program.js";

const ROW_THREADS = 256;

/** One workgroup per row: `[N, 2]` of (loss·valid, lse). */
function forwardProgram(N: number): WgslProgram {
  const rowsPerDim = Math.min(N, 65535);
  return {
    variableNames: ["X", "Targets", "Valid"],
    outputShape: [N * 2],
    shaderKey: "pythiaCrossEntropyForward",
    dispatchLayout: { x: [0], y: [1] },
    dispatch: [rowsPerDim, groups(N, rowsPerDim), 1],
    workgroupSize: [ROW_THREADS, 1, 1],
    uniforms: "N : i32, V : i32,",
    getUserCode: () => `
      var<workgroup> partial: array<f32, ${ROW_THREADS}>;
      var<workgroup> rowShared: i32;
      fn reduceMax(value: f32) -> f32 {
        partial[localIndex] = value;
        workgroupBarrier();
        for (var stride = ${ROW_THREADS / 2}u; stride > 0u; stride = stride / 2u) {
          if (localIndex < stride) { partial[localIndex] = max(partial[localIndex], partial[localIndex + stride]); }
          workgroupBarrier();
        }
        let out = partial[0];
        workgroupBarrier();
        return out;
      }
      fn reduceSum(value: f32) -> f32 {
        partial[localIndex] = value;
        workgroupBarrier();
        for (var stride = ${ROW_THREADS / 2}u; stride > 0u; stride = stride / 2u) {
          if (localIndex < stride) { partial[localIndex] = partial[localIndex] + partial[localIndex + stride]; }
          workgroupBarrier();
        }
        let out = partial[0];
        workgroupBarrier();
        return out;
      }
      fn main() {
        // Barriers need uniform control flow, and tfjs copies the workgroup id into a private variable,
        // which WGSL's analysis treats as non-uniform: workgroupUniformLoad makes the row uniform again.
        if (localIndex == 0u) { rowShared = i32(workgroupId.y * numWorkgroups.x + workgroupId.x); }
        let row = workgroupUniformLoad(&rowShared);
        if (row >= uniforms.N) { return; }
        let base = row * uniforms.V;
        var m = -3.4028234663852886e38;
        for (var v = i32(localIndex); v < uniforms.V; v = v + ${ROW_THREADS}) { m = max(m, X[base + v]); }
        m = reduceMax(m);
        var s = 0.0;
        for (var v = i32(localIndex); v < uniforms.V; v = v + ${ROW_THREADS}) { s = s + exp(X[base + v] - m); }
        s = reduceSum(s);
        if (localIndex == 0u) {
          let lse = m + log(s);
          result[row * 2] = (lse - f32(X[i32(Targets[row])])) * f32(Valid[row]);
          result[row * 2 + 1] = lse;
        }
      }`,
  };
}

/** One thread per logit: `(exp(x − lse[n]) − [i is n's target])·scale[n]`. */
function backwardProgram(N: number, V: number): WgslProgram {
  return {
    variableNames: ["X", "Lse", "Scale", "Targets"],
    outputShape: [N * V],
    shaderKey: "pythiaCrossEntropyBackward",
    dispatchLayout: { x: [0] },
    dispatch: [groups(N * V, 256), 1, 1],
    workgroupSize: [256, 1, 1],
    size: true,
    uniforms: "V : i32,",
    getUserCode: () => `
      fn main(index: i32) {
        if (index >= uniforms.size) { return; }
        let n = index / uniforms.V;
        let scale = f32(Scale[n]);
        var g = exp(X[index] - Lse[n]) * scale;
        if (index == i32(Targets[n])) { g = g - scale; }
        result[index] = g;
      }`,
  };
}

/**
 * `(logsumexp(x[r]) − x.flat[flatTargets[r]])·valid[r]` for `x` taken as `[N, V]` rows, with the gradient
 * `(softmax(x[r]) − onehot(target r))·valid[r]·dy[r]`.
 */
export function crossEntropyRows(x: tf.Tensor, flatTargets: tf.Tensor1D, valid: tf.Tensor1D): tf.Tensor1D {
  const op = customOp<tf.Tensor1D>((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const [N, V] = rows2d(input.shape);
    const targets = tf.cast(flatTargets, "int32");
    const pairs = runProgram(forwardProgram(N), [input, targets, valid], "float32", [
      { type: "int32", data: [N] },
      { type: "int32", data: [V] },
    ]);
    const columns = tf.reshape(pairs, [N, 2]);
    const lse = tf.reshape(tf.slice(columns, [0, 1], [N, 1]), [N]);
    save([input, lse, targets, valid]);
    return {
      value: tf.reshape(tf.slice(columns, [0, 0], [N, 1]), [N]),
      gradFunc: (dy: tf.Tensor1D, [xs, l, t, keep]: tf.Tensor[]) =>
        tf.tidy(() => {
          const scale = tf.mul(dy, keep as tf.Tensor1D); // [N]
          const grad = runProgram(
            backwardProgram(N, V),
            [xs as tf.Tensor, l as tf.Tensor, scale, t as tf.Tensor],
            "float32",
            [{ type: "int32", data: [V] }],
          );
          return tf.reshape(grad, input.shape);
        }),
    };
  });
  return op(x);
}
