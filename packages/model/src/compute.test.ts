import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { computeInfo, GPTNeoXModel, initCompute, ModelError, parseConfig } from "./index.js";

afterAll(async () => {
  await initCompute({ backend: "wasm" });
});

describe("initCompute", () => {
  it("auto picks the best installed backend and says why the others were skipped", async () => {
    const info = await initCompute({ backend: "auto" });
    // tfjs-node(-gpu) are optional and not installed here: wasm is the embedded default.
    expect(info.backend).toBe("wasm");
    expect(info.tfjsBackend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    // No GPU here: WebGPU finds no hardware adapter (at most SwiftShader, which auto never picks).
    expect(info.skipped.map((s) => s.backend)).toEqual(["tfjs-node-gpu", "webgpu", "tfjs-node"]);
    expect(info.skipped[0]?.reason).toMatch(/tfjs-node-gpu/);
    expect(
      info.fallbackKernels.length + (tf.getKernel("UnsortedSegmentSum", "wasm") ? 1 : 0),
    ).toBeGreaterThan(0);
    expect(info.wasm?.simd).toBe(true);
    expect(computeInfo()).toBe(info);
  });

  it("an explicitly requested backend that is missing is an error with an install hint", async () => {
    await expect(initCompute({ backend: "tfjs-node-gpu" })).rejects.toThrow(
      /backend "tfjs-node-gpu" could not start .*install @tensorflow\/tfjs-node-gpu/,
    );
    const error = await initCompute({ backend: "tfjs-node" }).catch((caught: unknown) => caught);
    expect(ModelError.isInstance(error) && error.code).toBe("BACKEND");
  });

  it("honours PYTHIA_BACKEND and rejects unknown names", async () => {
    process.env.PYTHIA_BACKEND = "cpu";
    try {
      expect((await initCompute()).backend).toBe("cpu");
      process.env.PYTHIA_BACKEND = "webgl";
      await expect(initCompute()).rejects.toThrow(
        /PYTHIA_BACKEND="webgl" is not a backend; use one of auto, tfjs-node-gpu, webgpu/,
      );
    } finally {
      delete process.env.PYTHIA_BACKEND;
    }
  });

  it("trains a step on wasm with a kernel for every op used, and leaks no tensors", async () => {
    await initCompute({ backend: "wasm" });
    const config = parseConfig({
      vocabSize: 64,
      hiddenSize: 16,
      numLayers: 2,
      numHeads: 2,
      intermediateSize: 64,
      rotaryPct: 0.5,
    });
    for (const gelu of ["erf", "tanh"] as const) {
      const model = GPTNeoXModel.initialize({ config: { ...config, gelu }, seed: 1 });
      const ids = tf.tensor2d(
        [
          [1, 5, 9, 63, 0, 2],
          [3, 3, 3, 7, 8, 9],
        ],
        undefined,
        "int32",
      );
      const before = tf.memory().numTensors;
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => model.loss(ids).loss, Object.values(model.params));
        for (const variable of Object.values(model.params)) {
          tf.tidy(() => variable.assign(tf.sub(variable, tf.mul(grads[variable.name] as tf.Tensor, 0.01))));
        }
        tf.dispose([value, ...Object.values(grads)]);
      });
      expect(tf.memory().numTensors).toBe(before);
      const kernels = new Set(profile.kernelNames);
      expect(kernels.has("UnsortedSegmentSum")).toBe(true); // the embedding gradient
      // profile() also lists op scopes (e.g. customGrad's "unnamed scope"); a kernel is a name some backend registers.
      const knownKernels = new Set(
        ["cpu", "wasm"].flatMap((backend) =>
          tf.getKernelsForBackend(backend).map((kernel) => kernel.kernelName),
        ),
      );
      const missing = [...kernels].filter(
        (name) => knownKernels.has(name) && tf.getKernel(name, "wasm") === undefined,
      );
      expect([...kernels].filter((name) => knownKernels.has(name)).length).toBeGreaterThan(10);
      expect(missing).toEqual([]);
      ids.dispose();
      model.dispose();
    }
  });
});
