import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GPTNeoXModel, parseConfig } from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { logitLens } from "./logit-lens.js";
import { tinyModel } from "../test/tiny-model.js";
import {
  createTunedLens,
  disposeTunedLens,
  loadTunedLens,
  saveTunedLens,
  trainTunedLens,
  type TunedLensEvent,
} from "./tuned-lens.js";

let model: GPTNeoXModel;
const sequence = [3, 17, 5, 40, 22, 9, 31, 2, 60, 11, 7, 19];
const batch = (step: number) => [sequence, sequence.map((id) => (id * 7 + step) % 64)];

beforeAll(async () => {
  model = await tinyModel({
    vocabSize: 64,
    numLayers: 3,
    maxPositionEmbeddings: 32,
    seed: 11,
    rotaryPct: 0.25,
  });
});

describe("logit lens and tuned lens", () => {
  it("the logit lens is exact at the last layer, and an untrained tuned lens equals it", async () => {
    const plain = await logitLens({ model, inputIds: sequence });
    expect(plain.layers).toHaveLength(4); // embedding + 3 blocks
    expect(plain.layers[3]?.meanKl).toBeCloseTo(0, 6);
    expect(plain.layers[0]?.meanKl).toBeGreaterThan(0);
    const lens = createTunedLens(model);
    const tuned = await logitLens({ model, inputIds: sequence, lens });
    expect(tuned.layers).toEqual(plain.layers);
    disposeTunedLens(lens);
  });

  it("one SGD step moves each translator by −lr·(1+μ)·∇KL (gradient checked by finite differences)", async () => {
    const lr = 0.1;
    const lens = await trainTunedLens({
      model,
      batch: () => [sequence],
      steps: 1,
      weightDecay: 0,
      clip: 1e9,
    });
    const step = Array.from(await (lens.biases[0] as tf.Variable).data()); // = −lr·(1+μ)·g
    const gradient = step.map((value) => -value / (lr * 1.9));
    const probe = createTunedLens(model);
    const loss = async (j: number, epsilon: number) => {
      const bias = new Float32Array(16);
      bias[j] = epsilon;
      (probe.biases[0] as tf.Variable).assign(tf.tensor1d(bias));
      return (await logitLens({ model, inputIds: sequence, lens: probe })).layers[0]?.meanKl as number;
    };
    for (const j of [0, 5, 11]) {
      const numeric = ((await loss(j, 1e-2)) - (await loss(j, -1e-2))) / 2e-2;
      expect(Math.abs(numeric - (gradient[j] as number))).toBeLessThan(2e-3 + 0.02 * Math.abs(numeric));
    }
    disposeTunedLens(probe);
    disposeTunedLens(lens);
  });

  it("training lowers every layer's KL, saves, loads and leaks nothing", async () => {
    const before = tf.memory().numTensors;
    const events: TunedLensEvent[] = [];
    const lens = await trainTunedLens({ model, batch, steps: 40, onEvent: (e) => events.push(e) });
    const first = events[0]?.loss as number[];
    const last = events.at(-1)?.loss as number[];
    expect(events.at(-1)?.step).toBe(40);
    for (const [layer, loss] of last.entries()) {
      expect(loss).toBeLessThan(0.8 * (first[layer] as number));
    }
    const dir = mkdtempSync(join(tmpdir(), "pythia-lens-"));
    await saveTunedLens({ lens, dir, baseModel: "tiny" });
    const loaded = await loadTunedLens(dir);
    expect(Array.from(await (loaded.weights[2] as tf.Variable).data())).toEqual(
      Array.from(await (lens.weights[2] as tf.Variable).data()),
    );
    const tuned = await logitLens({ model, inputIds: sequence, lens: loaded });
    const plain = await logitLens({ model, inputIds: sequence });
    expect(tuned.layers[0]?.meanKl).toBeLessThan(plain.layers[0]?.meanKl as number);
    disposeTunedLens(lens);
    disposeTunedLens(loaded);
    expect(tf.memory().numTensors).toBe(before);

    const other = GPTNeoXModel.initialize({
      config: parseConfig({
        vocabSize: 64,
        hiddenSize: 8,
        numLayers: 2,
        numHeads: 2,
        intermediateSize: 16,
        rotaryPct: 0.5,
        maxPositionEmbeddings: 32,
      }),
      seed: 1,
    });
    const wrong = createTunedLens(other);
    await expect(logitLens({ model, inputIds: sequence, lens: wrong })).rejects.toThrow(
      /2 translators of size 8 do not fit a model with 3 layers of size 16/,
    );
    disposeTunedLens(wrong);
    other.dispose();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ lens_type: "other" }));
    await expect(loadTunedLens(dir)).rejects.toThrow(/config\.json: expected lens_type "linear_tuned_lens"/);
    await expect(loadTunedLens(join(dir, "none"))).rejects.toThrow(/config\.json is missing/);
  });
});
