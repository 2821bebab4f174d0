import type { GPTNeoXModel } from "@pythia/model";
import { generate } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer/node";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { arithmeticRequests, modelGreedyUntil } from "./arithmetic.js";
import { tinyModel } from "../test/tiny-model.js";

let model: GPTNeoXModel;

beforeAll(async () => {
  model = await tinyModel({
    vocabSize: 50304,
    numLayers: 2,
    maxPositionEmbeddings: 512,
    seed: 5,
    rotaryPct: 0.25,
  });
});

describe("batched greedy until", () => {
  it("gives every prompt the continuation @pythia/model's generate gives it alone", async () => {
    const tokenizer = await loadPileTokenizer();
    const contexts = [
      ...arithmeticRequests({ operation: "multiplication", x1: 7, shots: 2, limit: 6 }),
      ...arithmeticRequests({ operation: "addition", x1: 42, shots: 0, limit: 6 }),
    ].map((request) => request.context);
    const greedyUntil = modelGreedyUntil(model, tokenizer, { batchSize: 4 });
    const before = tf.memory().numTensors;
    const batched = await greedyUntil.batch(contexts);
    expect(tf.memory().numTensors).toBe(before);
    for (const [i, context] of contexts.entries()) {
      const alone = await generate({
        model,
        inputIds: tokenizer.encode(context),
        maxNewTokens: 16,
        eosTokenId: null,
        stopStrings: ["\n"],
        tokenizer,
      });
      const text = alone.text ?? "";
      expect(batched[i]).toBe(text.includes("\n") ? text.slice(0, text.indexOf("\n")) : text);
      expect(await greedyUntil(context)).toBe(batched[i]);
    }
    expect(new Set(batched).size).toBeGreaterThan(1); // a random model's continuations differ
  });
});
