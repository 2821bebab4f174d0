// wideProduct: blocked and unblocked (W·xᵀ)ᵀ agree exactly, and both agree with x·Wᵀ.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initCompute } from "../../compute.js";
import { wideProduct } from "./wide-product.js";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

/** Seeded values in [-1, 1) (a 32-bit LCG), so every run multiplies the same matrices. */
function seeded(shape: [number, number], seed: number): tf.Tensor2D {
  const values = new Float32Array(shape[0] * shape[1]);
  let state = seed >>> 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return tf.tensor2d(values, shape);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return max;
}

describe("wideProduct", () => {
  // N not a multiple of the block nor of 8 (the transpose's fast path), so the last block is ragged.
  const [N, C, out] = [1100, 256, 2003];

  it.each([512, 100, 1])("blocks of %i rows give exactly the unblocked result", (blockRows) => {
    const x = seeded([N, C], 1);
    const w = seeded([out, C], 2);
    const whole = wideProduct(x, w, N);
    const before = tf.memory().numTensors;
    const blocked = wideProduct(x, w, blockRows);
    expect(tf.memory().numTensors).toBe(before + 1); // only the result
    expect(blocked.shape).toEqual([N, out]);
    const diff = maxAbsDiff(blocked.dataSync() as Float32Array, whole.dataSync() as Float32Array);
    expect(diff, `max |Δ| = ${diff}`).toBe(0);
    tf.dispose([x, w, whole, blocked]);
  });

  it("equals x·Wᵀ within float32 rounding", () => {
    const x = seeded([N, C], 3);
    const w = seeded([out, C], 4);
    const ours = wideProduct(x, w, 512);
    const reference = tf.matMul(x, tf.transpose(w));
    // Sums of 256 products of values in [-1, 1): |y| ≲ 30, so a few float32 ulps are ~1e-5.
    const diff = maxAbsDiff(ours.dataSync() as Float32Array, reference.dataSync() as Float32Array);
    expect(diff, `max |Δ| = ${diff}`).toBeLessThan(1e-4);
    tf.dispose([x, w, ours, reference]);
  });
});
