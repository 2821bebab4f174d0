/* eslint-disable @typescript-eslint/no-non-null-assertion -- test helper: the fixture has every metric */
// Full-split metrics of the seed-7 model against the harness's metrics.json: acc/acc_norm identical
// (ratios of counts), perplexity within 1e-4 relative.
import { readFileSync } from "node:fs";
import { initCompute, loadCheckpoint, type GPTNeoXModel } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, TfjsLoglikelihoodModel } from "../src/index.js";
import { fixturePath, sharedData, sharedFixture } from "./helpers.js";

interface ReferenceMetrics {
  tasks: Record<string, Record<string, number>>;
}

export function describeFullSplits(tasks: readonly string[]): void {
  const checkpoint = sharedFixture("eval/model-seed7");
  const dataDir = sharedData("eval");
  const reference = JSON.parse(
    readFileSync(fixturePath("harness-v0.3.0/metrics.json"), "utf8"),
  ) as ReferenceMetrics;

  describe.runIf(checkpoint !== null && dataDir !== null)("full-split metrics vs harness v0.3.0", () => {
    let model: GPTNeoXModel;
    let scorer: TfjsLoglikelihoodModel;
    beforeAll(async () => {
      await initCompute({ backend: "wasm" });
      model = await loadCheckpoint({ dir: checkpoint as string, trainable: false });
      scorer = new TfjsLoglikelihoodModel({ model });
    });
    afterAll(() => {
      scorer?.dispose();
      model?.dispose();
    });

    it.each(tasks)("%s", async (task) => {
      const expected = reference.tasks[task]!;
      const started = performance.now();
      const out = await evaluate({
        model: scorer,
        tokenizer: await loadPileTokenizer(),
        tasks: [task],
        dataDir: dataDir as string,
        batchSize: 32,
      });
      const ours = out.results[task]!;
      console.log(
        `${task}: ${JSON.stringify(ours)} in ${((performance.now() - started) / 1000).toFixed(1)}s`,
      );
      for (const metric of ["acc", "acc_norm"]) {
        if (expected[metric] !== undefined) {
          expect(ours[metric], metric).toBe(expected[metric]);
          expect(ours[`${metric}_stderr`]).toBeCloseTo(expected[`${metric}_stderr`]!, 12);
        }
      }
      if (expected.ppl !== undefined) {
        expect(Math.abs(ours.ppl! / expected.ppl - 1)).toBeLessThan(1e-4);
        expect(Math.abs(ours.ppl_stderr! / expected.ppl_stderr! - 1)).toBeLessThan(1e-3);
      }
    });
  });
}
