// Scoring on WebGPU (SwiftShader in CI): the first documents of two tasks against harness v0.3.0 +
// transformers, with the same tolerance as on wasm, and one task through the full `evaluate` path.
import { initCompute, loadCheckpoint, type GPTNeoXModel } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, scoreRequests, TfjsLoglikelihoodModel } from "../../src/index.js";
import { readHarnessFixture, sharedData, sharedFixture } from "../helpers.js";

const checkpoint = sharedFixture("eval/model-seed7");
const llTolerance = (ll: number) => 1e-4 + 1e-5 * Math.abs(ll);

describe.runIf(checkpoint !== null)("scoring on webgpu", () => {
  let model: GPTNeoXModel;
  let scorer: TfjsLoglikelihoodModel;
  beforeAll(async () => {
    await initCompute({ backend: "webgpu" });
    model = await loadCheckpoint({ dir: checkpoint as string, trainable: false });
    scorer = new TfjsLoglikelihoodModel({ model });
  });
  afterAll(() => {
    scorer?.dispose();
    model?.dispose();
  });

  // SwiftShader compiles a shader per new shape, so a few documents are what CI can afford.
  it("lambada_openai: ll and greediness of the first 3 docs", async () => {
    const task = "lambada_openai";
    const tokenizer = await loadPileTokenizer();
    const expected = readHarnessFixture(task)
      .slice(0, 3)
      .flatMap((record) => record.requests);
    const scored = await scoreRequests({ model: scorer, tokenizer, requests: expected });
    for (const [i, ours] of scored.entries()) {
      const reference = expected[i]!;
      expect(
        Math.abs(ours.ll - reference.ll),
        `request ${i}: ${ours.ll} vs ${reference.ll}`,
      ).toBeLessThanOrEqual(llTolerance(reference.ll));
      if (Math.min(...reference.greedy_gaps) > 1e-4) {
        expect(ours.isGreedy).toBe(reference.is_greedy); // not at near-ties below our float error
      }
    }
  });

  it("evaluate() runs a task end to end", async () => {
    const dataDir = sharedData("eval");
    const out = await evaluate({
      model: scorer,
      tokenizer: await loadPileTokenizer(),
      tasks: ["wsc"],
      dataDir: dataDir as string,
      limit: 3,
      batchSize: 8,
    });
    expect(out.results.wsc?.acc).toBeGreaterThanOrEqual(0);
    expect(out.results.wsc?.acc).toBeLessThanOrEqual(1);
  });
});
