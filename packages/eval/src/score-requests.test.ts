import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initCompute, loadCheckpoint, type GPTNeoXModel } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScoreCache, scoreRequests, TfjsLoglikelihoodModel, type ScoreProgressEvent } from "./index.js";
import { FIXTURE_TASKS, readHarnessFixture, sharedFixture } from "../test/helpers.js";

const checkpoint = sharedFixture("eval/model-seed7");

/** ll tolerance: float32 sums of up to ~100 log-probs of magnitude ~10 (README: ≈1e-5 relative). */
const llTolerance = (ll: number) => 1e-4 + 1e-5 * Math.abs(ll);

describe.runIf(checkpoint !== null)(
  "scoreRequests on the seed-7 model vs harness v0.3.0 + transformers",
  () => {
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

    it.each(FIXTURE_TASKS)(
      "%s: ll, per-token log-probs and greedy ids of the first 40 docs",
      async (name) => {
        const tokenizer = await loadPileTokenizer();
        const fixture = readHarnessFixture(name);
        const expected = fixture.flatMap((record) => record.requests);
        const before = tf.memory().numTensors;
        const scored = await scoreRequests({ model: scorer, tokenizer, requests: expected });
        expect(tf.memory().numTensors).toBe(before);
        let worst = 0;
        let worstToken = 0;
        for (const [i, ours] of scored.entries()) {
          const reference = expected[i]!;
          const diff = Math.abs(ours.ll - reference.ll);
          worst = Math.max(worst, diff);
          if (diff > llTolerance(reference.ll)) {
            expect.fail(
              `${name} request ${i}: ll ${ours.ll} vs ${reference.ll} (|Δ| ${diff} > ${llTolerance(reference.ll)})`,
            );
          }
          expect(ours.isGreedy).toBe(reference.is_greedy);
          ours.tokenLogprobs!.forEach((lp, j) => {
            worstToken = Math.max(worstToken, Math.abs(lp - reference.continuation_token_logprobs[j]!));
            // Argmax ids agree except at fragile near-ties (gap below our float error).
            if (reference.greedy_gaps[j]! > 1e-4) {
              expect(ours.greedyIds![j]).toBe(reference.greedy_ids[j]);
            }
          });
        }
        console.log(
          `${name}: ${expected.length} requests, max |Δll| ${worst.toExponential(2)}, max |Δlogprob| ${worstToken.toExponential(2)}`,
        );
        expect(worstToken).toBeLessThan(1e-4);
      },
    );

    it("resumes from the cache and reports progress; prefix reuse does not change scores", async () => {
      const tokenizer = await loadPileTokenizer();
      const requests = readHarnessFixture("sciq")
        .slice(0, 6)
        .flatMap((record) => record.requests);
      const path = join(mkdtempSync(join(tmpdir(), "pythia-eval-cache-")), "scores.jsonl");
      const events: ScoreProgressEvent[] = [];
      const first = await scoreRequests({
        model: scorer,
        tokenizer,
        requests,
        cache: new ScoreCache({ path, revision: "seed7" }),
        onProgress: (event) => events.push(event),
      });
      expect(events.at(-1)).toMatchObject({ done: requests.length, total: requests.length, cached: 0 });
      expect(events.at(-1)!.requestsPerSecond).toBeGreaterThan(0);
      const again: ScoreProgressEvent[] = [];
      const second = await scoreRequests({
        model: scorer,
        tokenizer,
        requests,
        cache: new ScoreCache({ path, revision: "seed7" }),
        onProgress: (event) => again.push(event),
      });
      expect(again).toEqual([expect.objectContaining({ done: requests.length, cached: requests.length })]);
      expect(second.map((r) => r.ll)).toEqual(first.map((r) => r.ll));
      const other = new ScoreCache({ path, revision: "another-model" });
      expect(other.size).toBe(0);
      const plain = await scoreRequests({
        model: scorer,
        tokenizer,
        requests,
        reusePrefixes: false,
        batchSize: 3,
      });
      plain.forEach((result, i) => expect(Math.abs(result.ll - first[i]!.ll)).toBeLessThan(1e-3));
    });
  },
);
