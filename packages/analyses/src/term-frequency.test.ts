import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPileTokenizer } from "@pythia/tokenizer/node";
import { describe, expect, it } from "vitest";
import type { termFrequencyIter } from "./term-frequency.js";
import { termFrequency, type TermFrequencyEvent } from "./term-frequency.js";

const texts = ["1 x 2", "nothing here", "1 x 3", "2 y 2"];
const fake = {
  rows: (start: number, count: number) => Array.from({ length: count }, (_, i) => Int32Array.of(start + i)),
  decode: (ids: ArrayLike<number>) => texts[ids[0] as number] as string,
};

describe("term frequency over checkpoints", () => {
  it("accumulates counts chunk by chunk as of each checkpoint", async () => {
    const result = await termFrequency({ ...fake, checkpointSteps: [1, 2], batchSize: 2 });
    expect(result.checkpoints[0]).toEqual({ step: 1, rows: 2, counts: { "1": 1, "1-2": 1, "2": 1 } });
    expect(result.checkpoints[1]?.counts).toEqual({ "1": 2, "1-2": 1, "1-3": 1, "2": 3, "2-2": 1, "3": 1 });
  });

  it("gives the same counts on worker threads as on this thread, over real Pile-tokenized rows", async () => {
    const tokenizer = await loadPileTokenizer();
    const docs = Array.from(
      { length: 64 },
      (_, i) => `Row ${i}: ${i} times ${i % 9} is ${i * (i % 9)}; wait ${i} minutes , then ${i + 1} hours .`,
    );
    const width = 40;
    const rows = docs.map((doc) => {
      const ids = tokenizer.encode(doc).slice(0, width);
      return Int32Array.from({ length: width }, (_, t) => ids[t] ?? 0);
    });
    const source = (start: number, count: number) => rows.slice(start, start + count);
    const params = { rows: source, checkpointSteps: [3, 8, 16], batchSize: 4, rowsPerRead: 5 };
    const inThread = await termFrequency(params);
    const events: TermFrequencyEvent[] = [];
    const pooled = await termFrequency({ ...params, workers: 2, onEvent: (event) => events.push(event) });
    expect(pooled).toEqual(inThread);
    const last = inThread.checkpoints[2]?.counts ?? {};
    const pairs = Object.keys(last).filter((key) => /^\d+-\d+$/.test(key));
    const keys = new Set(["5", "5-minute", "99999", ...pairs.slice(0, 3)]);
    const selected = await termFrequency({ ...params, workers: 2, keys });
    const expected = Object.fromEntries(Object.entries(last).filter(([key]) => keys.has(key)));
    expect(selected.checkpoints[2]?.counts).toEqual(expected);
    expect(Object.keys(expected)).toHaveLength(5);
    expect(Object.keys(inThread.checkpoints[2]?.counts ?? {}).length).toBeGreaterThan(100);
    expect(inThread.checkpoints[2]?.counts["5-minute"]).toBe(1);
    expect(
      events.filter((e) => e.type === "chunk-counted").map((e) => e.type === "chunk-counted" && e.step),
    ).toEqual([3, 8, 16]);
    expect(events.findLast((e) => e.type === "rows-counted")).toEqual({
      type: "rows-counted",
      rows: 64,
      totalRows: 64,
    });
  });

  it("resumes from cached checkpoints and refuses a cache made with other settings", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "pythia-tf-"));
    let reads = 0;
    const counting = {
      ...fake,
      rows: (start: number, count: number) => ((reads += count), fake.rows(start, count)),
    };
    const first = await termFrequency({ ...counting, checkpointSteps: [1], batchSize: 2, cacheDir });
    expect(readdirSync(cacheDir)).toEqual(["counts-step1.json"]);
    reads = 0;
    const events: TermFrequencyEvent[] = [];
    const second = await termFrequency({
      ...counting,
      checkpointSteps: [1, 2],
      batchSize: 2,
      cacheDir,
      onEvent: (e) => events.push(e),
    });
    expect(reads).toBe(2); // only the second chunk
    expect(second.checkpoints[0]).toEqual(first.checkpoints[0]);
    expect(second.checkpoints[1]?.counts["2"]).toBe(3);
    expect(events[0]).toMatchObject({ type: "chunk-counted", step: 1, cached: true });
    await expect(termFrequency({ ...fake, checkpointSteps: [1], batchSize: 4, cacheDir })).rejects.toThrow(
      /counts-step1\.json: counted with other settings \(batch_size 2, now 4\); use another cache directory/,
    );
    await expect(
      termFrequency({ ...fake, checkpointSteps: [1], batchSize: 2, cacheDir, source: "other.bin" }),
    ).rejects.toThrow(/source null, now "other.bin"/);
    writeFileSync(join(cacheDir, "counts-step1.json"), "{");
    await expect(termFrequency({ ...fake, checkpointSteps: [1], batchSize: 2, cacheDir })).rejects.toThrow(
      /not valid JSON/,
    );
  });

  it("keeps only the requested keys", async () => {
    const params = { ...fake, checkpointSteps: [2], batchSize: 2, keys: new Set(["1", "3", "9"]) };
    const result = await termFrequency(params);
    expect(result.checkpoints[0]?.counts).toEqual({ "1": 2, "3": 1 });
  });

  it("rejects bad input with one clear message", async () => {
    const bad = (params: Partial<Parameters<typeof termFrequencyIter>[0]>) =>
      termFrequency({ ...fake, checkpointSteps: [1], batchSize: 1, ...params });
    await expect(bad({ checkpointSteps: [2, 1] })).rejects.toThrow("must be ascending");
    await expect(bad({ workers: -1 })).rejects.toThrow("workers must be a non-negative integer");
    await expect(bad({ workers: 1 })).rejects.toThrow("pass tokenizerFile instead of decode");
    await expect(bad({ rows: () => [] })).rejects.toThrow("rows(0, 1) returned 0 rows");
  });
});
