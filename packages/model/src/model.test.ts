import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initCompute } from "./compute.js";
import { parseConfig, pythiaPreset } from "./config.js";
import { GPTNeoXModel } from "./model.js";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

describe("GPTNeoXModel memory", () => {
  it("load + dispose returns tf.memory() to its baseline (pythia-14m: every weight freed)", async () => {
    const config = pythiaPreset("pythia-14m");
    const model = GPTNeoXModel.initialize({ config, seed: 1 });
    const tensors = await model.toTensors();
    model.dispose();
    const before = tf.memory();
    const loaded = GPTNeoXModel.fromTensors({ config, tensors });
    const weightBytes = [...tensors.values()].reduce((sum, tensor) => sum + 4 * tensor.data.length, 0);
    // One tensor per parameter while loaded, each counted once.
    expect(tf.memory().numTensors - before.numTensors).toBe(loaded.specs.length);
    expect(tf.memory().numBytes - before.numBytes).toBe(weightBytes);
    loaded.dispose();
    expect(tf.memory().numTensors, "numTensors after dispose").toBe(before.numTensors);
    expect(tf.memory().numBytes, `numBytes after dispose (weights: ${weightBytes} bytes)`).toBe(
      before.numBytes,
    );
  });

  it("initialize + dispose leaks nothing either", () => {
    const before = tf.memory();
    const config = parseConfig({
      vocabSize: 64,
      hiddenSize: 16,
      numLayers: 2,
      numHeads: 2,
      intermediateSize: 64,
    });
    GPTNeoXModel.initialize({ config, seed: 2 }).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });
});
