import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { preshuffledBatch, preshuffledRowLength } from "./batch-viewer.js";
import { IndexedDataset } from "./indexed-dataset.js";
import { IndexedDatasetBuilder } from "./indexed-dataset-builder.js";
import { idxDataBytes, resolveShards, unshard, type UnshardEvent } from "./unshard.js";
import { temporaryDirectories } from "../test/helpers.js";

const temporary = temporaryDirectories("unshard");

/** A pre-shuffled-like dataset of `rows` items of `rowLength` uint16 tokens, then its .bin cut into `shards` byte ranges. */
async function shardedDataset(rows: number, rowLength: number, shards: number) {
  const dir = temporary();
  const prefix = join(dir, "document");
  const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
  for (let row = 0; row < rows; row++) {
    builder.addItem(Array.from({ length: rowLength }, (_, i) => (row * 7919 + i * 31) % 50277));
    builder.endDocument();
  }
  builder.finalize();
  const bin = readFileSync(`${prefix}.bin`);
  const cut = Math.ceil(bin.length / shards) + 1; // byte ranges, not item boundaries (odd on purpose)
  const names: string[] = [];
  for (let i = 0; i * cut < bin.length; i++) {
    const name = join(
      dir,
      `document-${String(i).padStart(5, "0")}-of-${String(shards - 1).padStart(5, "0")}.bin`,
    );
    writeFileSync(name, bin.subarray(i * cut, (i + 1) * cut));
    names.push(name);
  }
  return { dir, prefix, bin, names };
}

describe("unshard", () => {
  it("joins byte-range shards in index order into the original .bin, checked against the .idx", async () => {
    const { dir, prefix, bin, names } = await shardedDataset(40, 65, 12);
    expect(names).toHaveLength(12);
    expect(await idxDataBytes(`${prefix}.idx`)).toBe(bin.length);
    const out = join(temporary(), "joined");
    const events: UnshardEvent[] = [];
    const result = await unshard(
      { input: join(dir, "document-*-of-*.bin"), idx: `${prefix}.idx`, outPrefix: out },
      (event) => events.push(event),
    );
    expect(result.shards).toEqual(names);
    expect(events.filter((event) => event.type === "shard-copied")).toHaveLength(12);
    expect(readFileSync(`${out}.bin`).equals(bin)).toBe(true);
    expect(readFileSync(`${out}.idx`).equals(readFileSync(`${prefix}.idx`))).toBe(true);
    const dataset = IndexedDataset.open(out);
    expect(dataset.length).toBe(40);
    expect(Array.from(dataset.get(39).subarray(0, 2), Number)).toEqual([
      (39 * 7919) % 50277,
      (39 * 7919 + 31) % 50277,
    ]);
    dataset.close();
  });

  it("refuses a missing shard, a truncated shard, and an existing output", async () => {
    const { dir, prefix, names } = await shardedDataset(10, 33, 4);
    await expect(resolveShards([names[0]!, names[2]!, names[3]!])).rejects.toThrow(/shard 1 is missing/);
    await expect(resolveShards(names.slice(0, 2))).rejects.toThrow(/the last shards are missing/);
    writeFileSync(names[3]!, readFileSync(names[3]!).subarray(1));
    await expect(
      unshard({ input: join(dir, "document-*-of-*.bin"), idx: `${prefix}.idx`, outPrefix: join(dir, "out") }),
    ).rejects.toThrow(
      /describes \d+ bytes of tokens but the 4 shards hold \d+; a shard is missing or truncated/,
    );
    await expect(
      unshard({ input: join(dir, "nothing-*.bin"), idx: `${prefix}.idx`, outPrefix: join(dir, "out") }),
    ).rejects.toThrow(/no shard matches/);
    writeFileSync(names[3]!, Buffer.concat([Buffer.of(0), readFileSync(names[3]!)]));
    await expect(
      unshard({ input: join(dir, "document-*-of-*.bin"), idx: `${prefix}.idx`, outPrefix: prefix }),
    ).rejects.toThrow(/document\.bin already exists; choose another --out or pass --overwrite/);
  });
});

describe("pre-shuffled row length from the .idx", () => {
  it("batch rows follow the items' length, and a disagreeing seq length is refused", async () => {
    const { prefix } = await shardedDataset(12, 65, 2);
    const dataset = IndexedDataset.open(prefix);
    try {
      expect(preshuffledRowLength(dataset)).toBe(65);
      expect(preshuffledRowLength(dataset, 64)).toBe(65);
      expect(() => preshuffledRowLength(dataset, 2048)).toThrow(
        /every item holds 65 tokens, so rows are 65 tokens \(seq length 64\), but the seq length asked for is 2048; leave it out or pass 64/,
      );
      const batch = preshuffledBatch({ dataset, step: 1, batchSize: 4 });
      expect(batch).toHaveLength(4 * 65);
      expect(Array.from(batch.subarray(0, 65))).toEqual(Array.from(dataset.get(4), Number));
      expect(Array.from(batch.subarray(3 * 65))).toEqual(Array.from(dataset.get(7), Number));
    } finally {
      dataset.close();
    }
  });
});
