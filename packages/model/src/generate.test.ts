import * as tf from "@tensorflow/tfjs-core";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { beforeAll, describe, expect, it } from "vitest";
import type { GPTNeoXModel } from "./index.js";
import { chooseToken } from "./generate.js";
import { generate, initCompute, loadCheckpoint } from "./index.js";
import { RandomNormal } from "./random-normal.js";
import { fixturePath } from "../test/helpers.js";

let model: GPTNeoXModel;
const prompt = [10, 200, 31, 4, 99];

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
  model = await loadCheckpoint({ dir: fixturePath("tiny-v512-f32"), trainable: false });
});

async function lastLogits(ids: number[][]): Promise<Float32Array> {
  const { logits } = model.forward(ids);
  const [, T] = logits.shape;
  const last = tf.tidy(() => tf.slice(logits, [0, T - 1, 0], [1, 1, -1]));
  const values = (await last.data()) as Float32Array;
  tf.dispose([logits, last]);
  return values;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return max;
}

describe("KV cache", () => {
  it("incremental decoding gives the logits of a full forward", async () => {
    const sequence = [...prompt, 7, 300, 12];
    const full = model.forward([sequence]);
    const fullLogits = (await full.logits.data()) as Float32Array;
    const V = model.config.vocabSize;
    let step = model.forward([prompt], { returnCache: true });
    let cache = step.cache;
    tf.dispose(step.logits);
    for (let t = prompt.length; t < sequence.length; t++) {
      step = model.forward([[sequence[t] as number]], { cache, returnCache: true });
      const logits = (await step.logits.data()) as Float32Array;
      expect(maxAbsDiff(logits, fullLogits.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-4);
      tf.dispose([step.logits, ...(cache ?? []).flatMap((layer) => [layer.key, layer.value])]);
      cache = step.cache;
    }
    tf.dispose([full.logits, ...(cache ?? []).flatMap((layer) => [layer.key, layer.value])]);
  });

  it("a left-padded batch row matches the unpadded sequence", async () => {
    const padded = model.forward([[0, 0, ...prompt]], {
      attentionMask: tf.tensor2d([[0, 0, 1, 1, 1, 1, 1]], undefined, "int32"),
      positionIds: tf.tensor2d([[1, 1, 0, 1, 2, 3, 4]], undefined, "int32"),
    });
    const plain = model.forward([prompt]);
    const V = model.config.vocabSize;
    const a = (await padded.logits.data()) as Float32Array;
    const b = (await plain.logits.data()) as Float32Array;
    expect(maxAbsDiff(a.subarray(2 * V), b)).toBeLessThan(1e-4);
    tf.dispose([padded.logits, plain.logits]);
  });
});

describe("generate", () => {
  it("greedy decoding equals an argmax loop over full forwards, without leaking tensors", async () => {
    const before = tf.memory().numTensors;
    const result = await generate({ model, inputIds: prompt, maxNewTokens: 6, eosTokenId: null });
    expect(tf.memory().numTensors).toBe(before);
    const expected = [...prompt];
    for (let i = 0; i < 6; i++) {
      const logits = await lastLogits([expected]);
      expected.push(logits.indexOf(Math.max(...logits)));
    }
    expect(result.ids).toEqual(expected);
    expect(result.newIds).toEqual(expected.slice(prompt.length));
    expect(result.finishReason).toBe("length");
  });

  it("stops at EOS, and minLength bans EOS like HF's min_length", async () => {
    const first = (await generate({ model, inputIds: prompt, maxNewTokens: 1, eosTokenId: null }))
      .newIds[0] as number;
    const stopped = await generate({ model, inputIds: prompt, maxNewTokens: 5, eosTokenId: first });
    expect(stopped).toMatchObject({ newIds: [first], finishReason: "eos" });
    const banned = await generate({
      model,
      inputIds: prompt,
      maxNewTokens: 3,
      eosTokenId: first,
      minLength: prompt.length + 3,
    });
    expect(banned.newIds).toHaveLength(3);
    expect(banned.newIds).not.toContain(first);
  });

  it("sampling is deterministic per seed; top-k 1 is greedy", async () => {
    const sample = (seed: number) =>
      generate({
        model,
        inputIds: prompt,
        maxNewTokens: 8,
        temperature: 1.5,
        topP: 0.95,
        seed,
        eosTokenId: null,
      });
    expect((await sample(3)).newIds).toEqual((await sample(3)).newIds);
    const seeds = await Promise.all([1, 2, 3, 4].map(async (seed) => (await sample(seed)).newIds.join(",")));
    expect(new Set(seeds).size).toBeGreaterThan(1);
    const greedy = await generate({ model, inputIds: prompt, maxNewTokens: 4, eosTokenId: null });
    const topOne = await generate({
      model,
      inputIds: prompt,
      maxNewTokens: 4,
      temperature: 2,
      topK: 1,
      seed: 9,
      eosTokenId: null,
    });
    expect(topOne.newIds).toEqual(greedy.newIds);
  });

  it("stop strings end generation once the decoded continuation contains them", async () => {
    const tokenizer = await loadPileTokenizer();
    const greedy = await generate({ model, inputIds: prompt, maxNewTokens: 4, eosTokenId: null, tokenizer });
    const stop = tokenizer.decode(greedy.newIds.slice(0, 2));
    const result = await generate({
      model,
      inputIds: prompt,
      maxNewTokens: 4,
      eosTokenId: null,
      tokenizer,
      stopStrings: [stop],
    });
    expect(result.finishReason).toBe("stop-string");
    expect(result.newIds.length).toBeLessThanOrEqual(2);
    expect(greedy.newIds.slice(0, result.newIds.length)).toEqual(result.newIds);
    expect(result.text).toContain(stop);
  });

  it("rejects impossible requests", async () => {
    await expect(generate({ model, inputIds: [], maxNewTokens: 1 })).rejects.toThrow(/prompt is empty/);
    await expect(generate({ model, inputIds: prompt, maxNewTokens: 5000 })).rejects.toThrow(
      /exceed the model's 2048 positions/,
    );
    await expect(generate({ model, inputIds: prompt, maxNewTokens: 1, stopStrings: ["x"] })).rejects.toThrow(
      /need a tokenizer/,
    );
  });
});

describe("chooseToken", () => {
  it("top-p keeps the smallest set reaching p", () => {
    const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
    const counts = [0, 0, 0, 0];
    const random = new RandomNormal(5);
    for (let i = 0; i < 4000; i++) {
      counts[chooseToken(logits, { temperature: 1, topP: 0.7 }, random)]! += 1;
    }
    expect(counts[2]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[0]! / 4000).toBeGreaterThan(0.55); // 0.5 / 0.8 renormalised
  });
});

describe("generate input checks", () => {
  it("names a prompt token outside the vocabulary", async () => {
    await expect(generate({ model, inputIds: [12092], maxNewTokens: 1 })).rejects.toThrow(
      /prompt token 12092 is outside the model's vocabulary \[0, 512\)/,
    );
  });
});
