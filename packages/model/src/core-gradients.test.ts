import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { CORE_GRADIENT_KERNELS, registerCoreGradients } from "./core-gradients.js";
import { initCompute } from "./compute.js";

// Each gradient against central finite differences of sum(f(x) · w), w fixed: linear ops are exact up to
// float32 rounding, the others within O(h²).
const H = 1e-2;

function values(count: number, seed: number, offset = 0): number[] {
  return Array.from({ length: count }, (_, i) => offset + Math.sin(seed * 7.31 + i * 1.93));
}

function input(shape: number[], seed: number, offset = 0): tf.Tensor {
  return tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
      offset,
    ),
    shape,
    "float32",
  );
}

async function worstExcess(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): Promise<number> {
  const outputShape = tf.tidy(() => f(...inputs).shape);
  const w = input(outputShape, 99);
  const objective = (...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w));
  const analytic = tf.grads(objective)(inputs);
  let worst = -Infinity;
  for (const [k, x] of inputs.entries()) {
    const base = Array.from(await x.data());
    const got = await analytic[k]!.data();
    for (let j = 0; j < base.length; j++) {
      const at = async (delta: number) => {
        const moved = base.slice();
        moved[j] = (moved[j] as number) + delta;
        const xs = inputs.map((other, i) => (i === k ? tf.tensor(moved, x.shape, "float32") : other));
        const value = tf.tidy(() => objective(...xs));
        const result = (await value.data())[0] as number;
        tf.dispose([value, xs[k]!]);
        return result;
      };
      const numeric = ((await at(H)) - (await at(-H))) / (2 * H);
      worst = Math.max(worst, Math.abs((got[j] as number) - numeric) - (5e-3 + 1e-2 * Math.abs(numeric)));
    }
  }
  tf.dispose([w, ...analytic]);
  return worst;
}

const CASES: Array<{
  name: string;
  f: (...xs: tf.Tensor[]) => tf.Tensor;
  shapes: number[][];
  offset?: number;
}> = [
  { name: "Add, broadcast over rows", f: (a, b) => tf.add(a!, b!), shapes: [[2, 3], [3]] },
  {
    name: "Add, broadcast over columns",
    f: (a, b) => tf.add(a!, b!),
    shapes: [
      [2, 3],
      [2, 1],
    ],
  },
  {
    name: "Sub, both broadcast",
    f: (a, b) => tf.sub(a!, b!),
    shapes: [
      [2, 1, 3],
      [4, 3],
    ],
  },
  {
    name: "Multiply, broadcast",
    f: (a, b) => tf.mul(a!, b!),
    shapes: [
      [2, 3],
      [2, 1],
    ],
  },
  { name: "RealDiv, broadcast", f: (a, b) => tf.div(a!, b!), shapes: [[3], [2, 3]], offset: 2 },
  { name: "Sum over one axis", f: (x) => tf.sum(x!, 1), shapes: [[2, 3, 4]] },
  { name: "Sum over two axes, kept", f: (x) => tf.sum(x!, [0, 2], true), shapes: [[2, 3, 4]] },
  { name: "Mean over the last axis", f: (x) => tf.mean(x!, -1), shapes: [[2, 3, 4]] },
  { name: "Reshape", f: (x) => tf.reshape(x!, [3, 4]), shapes: [[2, 6]] },
  { name: "Transpose", f: (x) => tf.transpose(x!, [2, 0, 1]), shapes: [[2, 3, 4]] },
  {
    name: "BatchMatMul",
    f: (a, b) => tf.matMul(a!, b!),
    shapes: [
      [2, 3, 4],
      [2, 4, 5],
    ],
  },
  {
    name: "BatchMatMul, b transposed",
    f: (a, b) => tf.matMul(a!, b!, false, true),
    shapes: [
      [2, 3, 4],
      [2, 5, 4],
    ],
  },
  {
    name: "BatchMatMul, a transposed",
    f: (a, b) => tf.matMul(a!, b!, true, false),
    shapes: [
      [2, 4, 3],
      [2, 4, 5],
    ],
  },
  {
    name: "BatchMatMul, both transposed",
    f: (a, b) => tf.matMul(a!, b!, true, true),
    shapes: [
      [2, 4, 3],
      [2, 5, 4],
    ],
  },
  {
    name: "BatchMatMul, b broadcast over the batch",
    f: (a, b) => tf.matMul(a!, b!),
    shapes: [
      [2, 3, 4],
      [1, 4, 5],
    ],
  },
  { name: "Softmax", f: (x) => tf.softmax(x!), shapes: [[2, 5]] },
  {
    name: "Unpack, one slice unused",
    f: (x) => {
      const [first, , third] = tf.unstack(x!, 1);
      return tf.add(first!, tf.mul(third!, 3));
    },
    shapes: [[2, 3, 4]],
  },
  { name: "Cast", f: (x) => tf.cast(tf.mul(x!, x!), "float32"), shapes: [[5]] },
  { name: "Neg", f: (x) => tf.neg(x!), shapes: [[5]] },
  { name: "Exp", f: (x) => tf.exp(x!), shapes: [[5]] },
  { name: "Log", f: (x) => tf.log(x!), shapes: [[5]], offset: 2 },
  { name: "Square", f: (x) => tf.square(x!), shapes: [[5]] },
  { name: "Sqrt", f: (x) => tf.sqrt(x!), shapes: [[5]], offset: 2 },
];

describe("registerCoreGradients", () => {
  beforeAll(async () => {
    // tfjs-core alone registers no gradient: the ones tested below are ours.
    expect(CORE_GRADIENT_KERNELS.filter((kernel) => tf.getGradient(kernel) !== undefined)).toEqual([]);
    await initCompute({ backend: "wasm" });
  });

  it("initCompute registered every one, once", () => {
    expect(CORE_GRADIENT_KERNELS.filter((kernel) => tf.getGradient(kernel) === undefined)).toEqual([]);
    expect(registerCoreGradients()).toEqual([]);
  });

  it.each(CASES)("$name matches finite differences", async ({ f, shapes, offset }) => {
    const before = tf.memory().numTensors;
    const inputs = shapes.map((shape, i) => input(shape, i + 1, offset ?? 0));
    const worst = await worstExcess(f, inputs);
    expect(worst, `excess over tolerance ${worst}`).toBeLessThanOrEqual(0);
    tf.dispose(inputs);
    expect(tf.memory().numTensors).toBe(before);
  });
});
