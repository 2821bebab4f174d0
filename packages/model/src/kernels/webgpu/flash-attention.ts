/**
 * Causal self-attention in WGSL without the `[T, T]` scores of every head at once (FlashAttention's
 * tiling, Dao et al. 2022/2023): each workgroup takes 64 query rows of one head, streams the keys and
 * values through workgroup memory in tiles, and keeps a running max and sum per row (online softmax).
 * The forward pass stores only the output and each row's log-sum-exp L; the backward pass recomputes
 * the probabilities `p = exp(q·k·scale − L)` tile by tile, in two kernels: one thread per query row
 * for dq, one thread per key row for dk and dv (so no two threads add into the same element, and the
 * result is bit-reproducible). D = rowsum(dO∘O) comes from two tfjs ops.
 * Symbols: B batch, nh heads, BH = B·nh, T tokens, hs head size (HS in WGSL), C = nh·hs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "../custom-op.js";
import { groups, runProgram, workgroupStorageBytes, type WgslProgram } from "./program.js";

/** Query (forward, dq) or key (dk, dv) rows per workgroup: one per thread. */
const ROWS = 64;

/** The largest power of two ≤ 64 such that `floatsPerRow` floats per tile row fit in workgroup memory. */
function tileRows(floatsPerRow: number): number {
  const fit = Math.floor(workgroupStorageBytes() / (4 * floatsPerRow));
  let rows = 64;
  while (rows > fit && rows > 1) {
    rows /= 2;
  }
  return rows;
}

const UNIFORMS = "T : i32, nh : i32, BH : i32, scale : f32,";

/** WGSL shared by the three kernels: where q, k and v rows of head `bh` start in the stacked input. */
function prologue(hs: number): string {
  return `
    const HS = ${hs};
    const ROWS = ${ROWS};
    fn qAt(bh: i32, t: i32) -> i32 { return (bh * uniforms.T + t) * HS; }
    fn kAt(bh: i32, t: i32) -> i32 { return ((uniforms.BH + bh) * uniforms.T + t) * HS; }
    fn vAt(bh: i32, t: i32) -> i32 { return ((2 * uniforms.BH + bh) * uniforms.T + t) * HS; }
    /** Row t of head bh in a heads-merged [B, T, C] tensor. */
    fn mergedAt(bh: i32, t: i32) -> i32 {
      let b = bh / uniforms.nh;
      return (b * uniforms.T + t) * uniforms.nh * HS + (bh - b * uniforms.nh) * HS;
    }`;
}

/** WGSL: keys and values `k0 … k0 + TILE − 1` of head `bh` into workgroup memory (`Ks`, `Vs`), all threads. */
const LOAD_KEY_TILE = `
    fn loadKeyTile(bh: i32, k0: i32) {
      for (var e = i32(localIndex); e < TILE * HS; e += ROWS) {
        let j = k0 + e / HS;
        let d = e % HS;
        if (j < uniforms.T) { Ks[e] = QKV[kAt(bh, j) + d]; Vs[e] = QKV[vAt(bh, j) + d]; }
      }
    }`;

/** A program of one thread per row (query or key) of every head: 64-row workgroups, `[rows, heads]` dispatch. */
function rowProgram(
  shaderKey: string,
  variableNames: string[],
  outputShape: number[],
  BH: number,
  T: number,
  getUserCode: () => string,
): WgslProgram {
  return {
    variableNames,
    outputShape,
    shaderKey,
    dispatchLayout: { x: [0], y: [1] },
    dispatch: [groups(T, ROWS), BH, 1],
    workgroupSize: [ROWS, 1, 1],
    uniforms: UNIFORMS,
    getUserCode,
  };
}

/**
 * WGSL for the query-row kernels (forward, dq): the key/value tile in workgroup memory, its loader, and
 * `keyLimit()`, the keys any row of this workgroup may see (causal), made uniform for the barriers.
 */
function keyTileDeclarations(hs: number, tile: number): string {
  return `
      ${prologue(hs)}
      const TILE = ${tile};
      var<workgroup> Ks: array<f32, ${tile * hs}>;
      var<workgroup> Vs: array<f32, ${tile * hs}>;
      var<workgroup> keyLimitShared: i32;
      ${LOAD_KEY_TILE}
      fn keyLimit() -> i32 {
        if (localIndex == 0u) { keyLimitShared = min(i32(workgroupId.x) * ROWS + ROWS, uniforms.T); }
        return workgroupUniformLoad(&keyLimitShared);
      }`;
}

/** Output: O `[B, T, C]` followed by L `[BH, T]`, flat. */
function forwardProgram(BH: number, T: number, C: number, hs: number): WgslProgram {
  const tile = tileRows(2 * hs);
  return rowProgram(
    `pythiaFlashForward_${hs}_${tile}`,
    ["QKV"],
    [(BH / (C / hs)) * T * C + BH * T],
    BH,
    T,
    () => `
      ${keyTileDeclarations(hs, tile)}
      fn main() {
        let bh = i32(workgroupId.y);
        let i = i32(workgroupId.x) * ROWS + i32(localIndex);
        let inRange = i < uniforms.T;
        var q: array<f32, ${hs}>;
        var acc: array<f32, ${hs}>;
        if (inRange) {
          for (var d = 0; d < HS; d++) { q[d] = QKV[qAt(bh, i) + d] * uniforms.scale; }
        }
        var m = -3.4028234663852886e38;
        var l = 0.0;
        let limit = keyLimit(); // keys < limit are visible to some row here
        for (var k0 = 0; k0 < limit; k0 += TILE) {
          loadKeyTile(bh, k0);
          workgroupBarrier();
          if (inRange) {
            let end = min(TILE, i - k0 + 1); // causal: key j ≤ query i
            for (var jj = 0; jj < end; jj++) {
              var s = 0.0;
              for (var d = 0; d < HS; d++) { s += q[d] * Ks[jj * HS + d]; }
              let mNew = max(m, s);
              let correction = exp(m - mNew);
              let p = exp(s - mNew);
              l = l * correction + p;
              for (var d = 0; d < HS; d++) { acc[d] = acc[d] * correction + p * Vs[jj * HS + d]; }
              m = mNew;
            }
          }
          workgroupBarrier();
        }
        if (inRange) {
          let out = mergedAt(bh, i);
          for (var d = 0; d < HS; d++) { result[out + d] = acc[d] / l; }
          result[uniforms.BH / uniforms.nh * uniforms.T * uniforms.nh * HS + bh * uniforms.T + i] = m + log(l);
        }
      }`,
  );
}

/** dq `[BH, T, hs]`: one thread per query row, keys streamed in tiles. */
function dqProgram(BH: number, T: number, hs: number): WgslProgram {
  const tile = tileRows(2 * hs);
  return rowProgram(
    `pythiaFlashDq_${hs}_${tile}`,
    ["QKV", "DO", "L", "D"],
    [BH * T * hs],
    BH,
    T,
    () => `
      ${keyTileDeclarations(hs, tile)}
      fn main() {
        let bh = i32(workgroupId.y);
        let i = i32(workgroupId.x) * ROWS + i32(localIndex);
        let inRange = i < uniforms.T;
        var q: array<f32, ${hs}>;
        var dO: array<f32, ${hs}>;
        var dq: array<f32, ${hs}>;
        var Li = 0.0;
        var Di = 0.0;
        if (inRange) {
          for (var d = 0; d < HS; d++) {
            q[d] = QKV[qAt(bh, i) + d] * uniforms.scale;
            dO[d] = DO[mergedAt(bh, i) + d];
          }
          Li = L[bh * uniforms.T + i];
          Di = D[bh * uniforms.T + i];
        }
        let limit = keyLimit();
        for (var k0 = 0; k0 < limit; k0 += TILE) {
          loadKeyTile(bh, k0);
          workgroupBarrier();
          if (inRange) {
            let end = min(TILE, i - k0 + 1);
            for (var jj = 0; jj < end; jj++) {
              var s = 0.0;
              var dp = 0.0;
              for (var d = 0; d < HS; d++) { s += q[d] * Ks[jj * HS + d]; dp += dO[d] * Vs[jj * HS + d]; }
              let ds = exp(s - Li) * (dp - Di);
              for (var d = 0; d < HS; d++) { dq[d] += ds * Ks[jj * HS + d]; }
            }
          }
          workgroupBarrier();
        }
        if (inRange) {
          for (var d = 0; d < HS; d++) { result[qAt(bh, i) + d] = dq[d] * uniforms.scale; }
        }
      }`,
  );
}

/** dk then dv, `[2, BH, T, hs]`: one thread per key row, queries (with dO, L, D) streamed in tiles. */
function dkvProgram(BH: number, T: number, hs: number): WgslProgram {
  const tile = tileRows(2 * hs + 2);
  return rowProgram(
    `pythiaFlashDkv_${hs}_${tile}`,
    ["QKV", "DO", "L", "D"],
    [2 * BH * T * hs],
    BH,
    T,
    () => `
      ${prologue(hs)}
      const TILE = ${tile};
      var<workgroup> Qs: array<f32, ${tile * hs}>;
      var<workgroup> dOs: array<f32, ${tile * hs}>;
      var<workgroup> Ls: array<f32, ${tile}>;
      var<workgroup> Ds: array<f32, ${tile}>;
      var<workgroup> firstQuery: i32;
      fn main() {
        let bh = i32(workgroupId.y);
        let j = i32(workgroupId.x) * ROWS + i32(localIndex);
        let inRange = j < uniforms.T;
        var k: array<f32, ${hs}>;
        var v: array<f32, ${hs}>;
        var dk: array<f32, ${hs}>;
        var dv: array<f32, ${hs}>;
        if (inRange) {
          for (var d = 0; d < HS; d++) { k[d] = QKV[kAt(bh, j) + d] * uniforms.scale; v[d] = QKV[vAt(bh, j) + d]; }
        }
        if (localIndex == 0u) { firstQuery = i32(workgroupId.x) * ROWS; }
        let start = workgroupUniformLoad(&firstQuery); // queries before the first key see none of them
        for (var q0 = start; q0 < uniforms.T; q0 += TILE) {
          for (var e = i32(localIndex); e < TILE * HS; e += ROWS) {
            let i = q0 + e / HS;
            let d = e % HS;
            if (i < uniforms.T) { Qs[e] = QKV[qAt(bh, i) + d]; dOs[e] = DO[mergedAt(bh, i) + d]; }
          }
          for (var e = i32(localIndex); e < TILE; e += ROWS) {
            if (q0 + e < uniforms.T) { Ls[e] = L[bh * uniforms.T + q0 + e]; Ds[e] = D[bh * uniforms.T + q0 + e]; }
          }
          workgroupBarrier();
          if (inRange) {
            for (var ii = max(0, j - q0); ii < min(TILE, uniforms.T - q0); ii++) {
              var s = 0.0;
              var dp = 0.0;
              for (var d = 0; d < HS; d++) { s += Qs[ii * HS + d] * k[d]; dp += dOs[ii * HS + d] * v[d]; }
              let p = exp(s - Ls[ii]);
              let ds = p * (dp - Ds[ii]);
              for (var d = 0; d < HS; d++) {
                dv[d] += p * dOs[ii * HS + d];
                dk[d] += ds * Qs[ii * HS + d];
              }
            }
          }
          workgroupBarrier();
        }
        if (inRange) {
          let dvBase = uniforms.BH * uniforms.T * HS;
          for (var d = 0; d < HS; d++) {
            result[qAt(bh, j) + d] = dk[d] * uniforms.scale;
            result[dvBase + qAt(bh, j) + d] = dv[d];
          }
        }
      }`,
  );
}

/**
 * `softmax(q·kᵀ/√hs + causal mask)·v` on `[3, B, nh, T, hs]` (q, k, v stacked), heads merged:
 * `[B, T, C]`. One tape node; its gradient has the input's stacked shape.
 */
export function flashSelfAttention(qkvHeads: tf.Tensor5D): tf.Tensor3D {
  const [, B, nh, T, hs] = qkvHeads.shape;
  const BH = B * nh;
  const C = nh * hs;
  const uniforms = [
    { type: "int32" as const, data: [T] },
    { type: "int32" as const, data: [nh] },
    { type: "int32" as const, data: [BH] },
    { type: "float32" as const, data: [1 / Math.sqrt(hs)] },
  ];
  const op = customOp<tf.Tensor3D>((x: tf.Tensor5D, save: tf.GradSaveFunc) => {
    const packed = runProgram(forwardProgram(BH, T, C, hs), [x], "float32", uniforms);
    const out = tf.reshape(tf.slice(packed, [0], [B * T * C]), [B, T, C]) as tf.Tensor3D;
    const lse = tf.slice(packed, [B * T * C], [BH * T]); // [BH·T]
    save([x, out, lse]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor3D, [xs, o, l]: tf.Tensor[]) =>
        tf.tidy(() => {
          const rowDot = tf.sum(tf.reshape(tf.mul(dy, o as tf.Tensor), [B, T, nh, hs]), -1); // [B, T, nh]
          const D = tf.reshape(tf.transpose(rowDot, [0, 2, 1]), [BH * T]);
          const inputs = [xs as tf.Tensor, dy, l as tf.Tensor, D];
          const dq = runProgram(dqProgram(BH, T, hs), inputs, "float32", uniforms);
          const dkv = runProgram(dkvProgram(BH, T, hs), inputs, "float32", uniforms);
          return tf.reshape(tf.concat([dq, dkv]), [3, B, nh, T, hs]);
        }),
    };
  });
  return op(qkvHeads);
}
