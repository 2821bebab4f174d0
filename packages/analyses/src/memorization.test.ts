import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "@pythia/model";
import { describe, expect, it } from "vitest";
import { tinyModel } from "../test/tiny-model.js";
import {
  memorization,
  memorizationScore,
  memorizedFlags,
  modelGreedyContinuation,
  readScoresFile,
  type GreedyContinuation,
} from "./memorization.js";

// Rows whose second half repeats the first: a model that copies its prompt reproduces them.
const rows = (start: number, count: number) =>
  Array.from({ length: count }, (_, i) => {
    const row = new Int32Array(65);
    for (let t = 0; t < 32; t++) {
      row[t] = 2 + (((start + i) * 7 + t) % 50);
      row[32 + t] = row[t] as number;
    }
    return row;
  });
const copying: GreedyContinuation = async (prompts, length) => prompts.map((p) => p.slice(0, length));
const never: GreedyContinuation = async (prompts, length) =>
  prompts.map((p) => p.slice(0, length).map((id) => id + 1));

describe("memorization", () => {
  it("scores the fraction of matching positions", () => {
    expect(memorizationScore([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.75);
  });

  it("a copying model memorizes every sequence; one that never copies memorizes none", async () => {
    const all = await memorization({ rows, start: 10, count: 40, continuation: copying, batchSize: 7 });
    expect(all.memorizedCount).toBe(40);
    expect(all.scores.every((s) => s === 1)).toBe(true);
    const none = await memorization({ rows, start: 10, count: 40, continuation: never });
    expect(none.memorizedCount).toBe(0);
    expect(none.meanScore).toBe(0);
  });

  it("streams to a compact scores file and resumes from it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "pythia-mem-")), "scores");
    const controller = new AbortController();
    let calls = 0;
    const counting: GreedyContinuation = async (prompts, length) => {
      calls++;
      if (calls === 3) {
        controller.abort();
      }
      return copying(prompts, length);
    };
    await expect(
      memorization({
        rows,
        start: 0,
        count: 50,
        continuation: counting,
        batchSize: 10,
        scoresFile: file,
        signal: controller.signal,
      }),
    ).rejects.toThrow();
    expect(readScoresFile(file).matches.length).toBe(30);
    calls = 0;
    const resumed = await memorization({
      rows,
      start: 0,
      count: 50,
      continuation: counting,
      batchSize: 10,
      scoresFile: file,
    });
    expect(resumed.resumed).toBe(30);
    expect(calls).toBe(2);
    const scores = readScoresFile(file);
    expect(scores.matches.length).toBe(50);
    expect([...memorizedFlags(scores)].every((f) => f === 1)).toBe(true);
  });

  it("batched greedy decoding with EOD banned equals generate() with minLength, on a real model", async () => {
    const model = await tinyModel({
      vocabSize: 32,
      numLayers: 2,
      maxPositionEmbeddings: 32,
      seed: 3,
      eosTokenId: 0,
    });
    const prompts = [
      Int32Array.from([1, 2, 3, 4]),
      Int32Array.from([5, 6, 7, 8]),
      Int32Array.from([9, 9, 9, 9]),
    ];
    const batched = await modelGreedyContinuation(model)(prompts, 8);
    for (const [i, prompt] of prompts.entries()) {
      const single = await generate({
        model,
        inputIds: [...prompt],
        maxNewTokens: 8,
        minLength: 12,
        eosTokenId: 0,
      });
      expect([...(batched[i] as Int32Array)]).toEqual(single.newIds);
      expect(single.newIds).not.toContain(0);
    }
    model.dispose();
  });
});
