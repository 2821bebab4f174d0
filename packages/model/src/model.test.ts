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

describe("GPTNeoXModel.fromTensors", () => {
  it("refuses tensors that do not match the configuration, listing every problem, and allocates nothing", async () => {
    const config = parseConfig({
      vocabSize: 64,
      hiddenSize: 16,
      numLayers: 1,
      numHeads: 2,
      intermediateSize: 64,
    });
    const model = GPTNeoXModel.initialize({ config, seed: 3 });
    const tensors = new Map<string, { shape: number[]; data: unknown }>(await model.toTensors());
    model.dispose();
    tensors.delete("gpt_neox.final_layer_norm.bias");
    tensors.set("gpt_neox.embed_in.weight", { shape: [64, 16], data: new Int32Array(64 * 16) });
    tensors.set("embed_out.weight", { shape: [64, 8], data: new Float32Array(64 * 8) });
    tensors.set("gpt_neox.stray", { shape: [2], data: new Float32Array(2) });
    tensors.set("gpt_neox.layers.0.attention.bias", { shape: [1, 1, 4, 4], data: new Uint8Array(16) }); // legacy buffer: ignored
    const before = tf.memory().numTensors;
    expect(() => GPTNeoXModel.fromTensors({ config, tensors, source: "ckpt" })).toThrow(
      "ckpt: the weights do not match the configuration (4 problem(s)): gpt_neox.embed_in.weight is not a float tensor; missing gpt_neox.final_layer_norm.bias [16]; embed_out.weight has shape [64,8], config.json implies [64,16]; unexpected tensor gpt_neox.stray [2]. Check that config.json belongs to these weights.",
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
