// The WGSL kernels against the generic tfjs formulation of the same math (device kernels), values and
// gradients, on the WebGPU backend (SwiftShader in CI: tiny shapes). Run by `pnpm test:webgpu`.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { afterEach } from "vitest";
import { initCompute, takeWebGPUErrors } from "../../compute.js";
import { attentionBias } from "../attention-bias.js";
import { embed as hostEmbed } from "../embedding.js";
import * as device from "../device/index.js";
import { crossEntropyRows } from "./cross-entropy.js";
import { embed, groupPositions } from "./embedding.js";
import { flashSelfAttention } from "./flash-attention.js";

beforeAll(async () => {
  await initCompute({ backend: "webgpu" });
});

afterEach(async () => {
  await tf.ready();
  expect(takeWebGPUErrors()).toEqual([]); // WebGPU skips invalid work silently: nothing may be rejected
});

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [await a.data(), await b.data()];
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  }
  return worst;
}

describe("flashSelfAttention", () => {
  // T = 70 spans two 64-row workgroups and several key tiles; hs = 8 and 16.
  it.each([
    [2, 2, 70, 8],
    [1, 3, 5, 16],
  ])("B=%i nh=%i T=%i hs=%i: value and gradient match the batched formulation", async (B, nh, T, hs) => {
    const qkv = tf.randomNormal([3, B, nh, T, hs], 0, 1, "float32", 7) as tf.Tensor5D;
    const dy = tf.randomNormal([B, T, nh * hs], 0, 1, "float32", 8);
    const bias = attentionBias(T, T, undefined);
    const flash = tf.valueAndGrad((x: tf.Tensor) => tf.sum(tf.mul(flashSelfAttention(x as tf.Tensor5D), dy)));
    const reference = tf.valueAndGrad((x: tf.Tensor) =>
      tf.sum(tf.mul(device.selfAttention(x as tf.Tensor5D, bias), dy)),
    );
    const ours = flash(qkv);
    const theirs = reference(qkv);
    expect(await maxDiff(flashSelfAttention(qkv), device.selfAttention(qkv, bias))).toBeLessThan(1e-5);
    expect(await maxDiff(ours.grad, theirs.grad)).toBeLessThan(1e-4);
  });
});

describe("crossEntropyRows", () => {
  it("value and gradient match log-sum-exp minus the target logit", async () => {
    const [N, V] = [6, 300];
    const x = tf.randomNormal([2, 3, V], 0, 3, "float32", 3);
    const targets = tf.tensor1d([0, 299, 17, 45, 123, 1], "int32");
    const flat = tf.add(tf.mul(tf.range(0, N, 1, "int32"), tf.scalar(V, "int32")), targets) as tf.Tensor1D;
    const valid = tf.tensor1d([1, 1, 0, 1, 1, 1]);
    const dy = tf.tensor1d([0.5, -1, 2, 1, 0.25, 3]);
    const f = (k: typeof crossEntropyRows) =>
      tf.valueAndGrad((input: tf.Tensor) => tf.sum(tf.mul(k(input, flat, valid), dy)));
    const ours = f(crossEntropyRows)(x);
    const theirs = f(device.crossEntropyRows)(x);
    expect(
      await maxDiff(crossEntropyRows(x, flat, valid), device.crossEntropyRows(x, flat, valid)),
    ).toBeLessThan(1e-5);
    expect(await maxDiff(ours.grad, theirs.grad)).toBeLessThan(1e-6);
  });
});

describe("embed", () => {
  it("groups positions by token in order", () => {
    const grouped = groupPositions([3, 1, 3, 0, 3], 5);
    expect([...grouped.order]).toEqual([3, 1, 0, 2, 4]);
    expect([...grouped.starts]).toEqual([0, 1, 2, 5]);
    expect([...grouped.rowOf]).toEqual([0, 1, -1, 2, -1]);
  });

  it("gradient equals the segment sum of the rows, whatever the token order", async () => {
    const table = tf.randomNormal([11, 4], 0, 1, "float32", 1);
    const ids = tf.tensor2d(
      [
        [3, 1, 3, 10],
        [0, 3, 10, 2],
      ],
      undefined,
      "int32",
    );
    const dy = tf.randomNormal([2, 4, 4], 0, 1, "float32", 2);
    const ours = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(embed(w, ids), dy)))(table);
    const ids2 = tf.tensor2d(
      [
        [3, 1, 3, 10],
        [0, 3, 10, 2],
      ],
      undefined,
      "int32",
    );
    const theirs = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(hostEmbed(w, ids2), dy)))(table);
    expect(await maxDiff(ours, theirs)).toBeLessThan(1e-6);
  });
});
