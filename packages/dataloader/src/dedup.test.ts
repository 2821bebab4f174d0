import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixturePath, temporaryDirectories } from "../test/helpers.js";
import { plantedCorpus } from "../test/planted-corpus.js";
import { dedup, dedupIter, IndexedDataset, preprocess, type DedupEvent } from "./index.js";
import { exactJaccard, wordShingles } from "./word-shingles.js";

const directory = temporaryDirectories("dedup");

const base = Array.from({ length: 60 }, (_, i) => `w${(i * 7919) % 1000}`).join(" ");
const nearCopy = base.replace("w0 ", "changed ");
const other = Array.from({ length: 60 }, (_, i) => `v${i}`).join(" ");

/** A small JSONL file: an exact and a near duplicate of `base`, an unrelated document, a blank line. */
function smallCorpus(dir: string): { file: string; lines: string[] } {
  const lines = [
    JSON.stringify({ text: base, meta: { id: "a" } }),
    JSON.stringify({ text: other, meta: { id: "b" } }),
    "",
    JSON.stringify({ text: nearCopy, meta: { id: "c" } }),
    JSON.stringify({ text: base, meta: { id: "d" } }),
  ];
  const file = join(dir, "small.jsonl");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return { file, lines };
}

describe("dedup", () => {
  it("keep last (the Pile's rule) keeps the last copy; the output keeps the input lines unchanged", async () => {
    const dir = directory();
    const { file, lines } = smallCorpus(dir);
    expect(exactJaccard(wordShingles(base, 5), wordShingles(nearCopy, 5))).toBeGreaterThan(0.9);
    const events: DedupEvent[] = [];
    const report = await dedup({
      inputs: [file],
      outputPrefix: join(dir, "out"),
      workers: 0,
      onEvent: (event) => events.push(event),
    });
    expect(readFileSync(join(dir, "out.jsonl"), "utf8")).toBe(`${lines[1]}\n${lines[4]}\n`);
    expect(report).toMatchObject({
      documents: 4,
      kept: 2,
      dropped: 2,
      keep: "last",
      threshold: 0.87,
      lsh: { bands: 7, rows: 18 },
      clusters: { count: 1, documents: 3, largest: 3, sizes: { 3: 1 } },
    });
    expect(report.sample.map((pair) => [pair.dropped.line, pair.duplicateOf.line])).toEqual([
      [1, 5],
      [4, 5],
    ]);
    expect(report.sample[0]).toMatchObject({ estimatedJaccard: 1, exactJaccard: 1 });
    expect(report.sample[1]?.exactJaccard).toBeCloseTo(
      exactJaccard(wordShingles(base, 5), wordShingles(nearCopy, 5)),
      12,
    );
    expect(JSON.parse(readFileSync(join(dir, "out.dedup-report.json"), "utf8"))).toEqual(report);
    expect(events.filter((event) => event.type === "phase").map((event) => event.phase)).toEqual([
      "signatures",
      "duplicates",
      "write",
    ]);
    expect(events.find((event) => event.type === "duplicates")).toMatchObject({ documents: 4, dropped: 2 });
    expect(readdirSync(dir).sort()).toEqual(["out.dedup-report.json", "out.jsonl", "small.jsonl"]);
  });

  it("keep first keeps the first copy", async () => {
    const dir = directory();
    const { file, lines } = smallCorpus(dir);
    const report = await dedup({ inputs: [file], outputPrefix: join(dir, "out"), workers: 0, keep: "first" });
    expect(readFileSync(join(dir, "out.jsonl"), "utf8")).toBe(`${lines[0]}\n${lines[1]}\n`);
    expect(report.sample.map((pair) => [pair.dropped.line, pair.duplicateOf.line])).toEqual([
      [4, 1],
      [5, 1],
    ]);
  });

  it("reads .jsonl.zst and plain text across files; documents are numbered across them", async () => {
    const dir = directory();
    const text = join(dir, "doc.txt");
    writeFileSync(text, "The Pile is an 825 GiB English text corpus.");
    const report = await dedup({
      inputs: [fixturePath("corpus.jsonl"), fixturePath("corpus.jsonl.zst"), text],
      outputPrefix: join(dir, "out"),
      workers: 0,
    });
    // The .zst holds the same three documents: the .jsonl's copies go (keep last), and the text file's
    // document equals the first one, so the .zst's first line goes too.
    expect(report).toMatchObject({ documents: 7, dropped: 4, kept: 3 });
    const kept = readFileSync(join(dir, "out.jsonl"), "utf8").trimEnd().split("\n");
    const zstLines = readFileSync(fixturePath("corpus.jsonl"), "utf8").trimEnd().split("\n");
    expect(kept).toEqual([
      zstLines[1],
      zstLines[2],
      JSON.stringify({ text: "The Pile is an 825 GiB English text corpus." }),
    ]);
    expect(report.sample.find((pair) => pair.dropped.document === 3)?.duplicateOf).toEqual({
      document: 6,
      file: text,
      line: 1,
    });
  });

  it("the same seed drops the same documents with 0, 1 or 2 workers; another seed still finds the clear duplicates", async () => {
    const dir = directory();
    const corpus = plantedCorpus({
      seed: 5,
      originalsByCopies: [40, 60, 10],
      wordsPerDocument: 300,
      maxEdits: 4,
    });
    const file = join(dir, "planted.jsonl");
    writeFileSync(file, corpus.texts.map((text) => JSON.stringify({ text })).join("\n"));
    const outputs: string[] = [];
    const first = await dedup({ inputs: [file], outputPrefix: join(dir, "first"), workers: 1 });
    for (const workers of [0, 1, 2]) {
      const report = await dedup({
        inputs: [file],
        outputPrefix: join(dir, `w${workers}`),
        workers,
        batchChars: 4096,
      });
      expect(report.dropped).toBeGreaterThan(40);
      outputs.push(readFileSync(join(dir, `w${workers}.jsonl`), "utf8"));
    }
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
    const again = await dedup({ inputs: [file], outputPrefix: join(dir, "again"), workers: 1 });
    expect(readFileSync(join(dir, "again.jsonl"), "utf8")).toBe(outputs[0]);
    expect(again.sample).toEqual(first.sample);
    const reseeded = await dedup({ inputs: [file], outputPrefix: join(dir, "seed2"), workers: 0, seed: 2 });
    // Exact copies (0 edits) share every signature value whatever the seed: one copy at most survives.
    const exactCopies = corpus.plants.filter((plant) => plant.edits === 0);
    expect(exactCopies.length).toBeGreaterThan(3);
    const seed2Kept = readFileSync(join(dir, "seed2.jsonl"), "utf8").trimEnd().split("\n");
    for (const plant of exactCopies) {
      const line = JSON.stringify({ text: corpus.texts[plant.copy] });
      expect(seed2Kept.filter((kept) => kept === line).length).toBeLessThanOrEqual(1);
    }
    expect(reseeded.seed).toBe(2);
  });

  it("format bin writes the same dataset as preprocessing the kept JSONL", async () => {
    const dir = directory();
    const { file } = smallCorpus(dir);
    const report = await dedup({ inputs: [file], outputPrefix: join(dir, "out"), workers: 1, format: "bin" });
    expect(report.outputs).toEqual({
      dataset: join(dir, "out_text_document"),
      report: join(dir, "out.dedup-report.json"),
    });
    await dedup({ inputs: [file], outputPrefix: join(dir, "ref"), workers: 0 });
    await preprocess({ inputs: [join(dir, "ref.jsonl")], outputPrefix: join(dir, "ref"), workers: 0 });
    for (const extension of ["bin", "idx"]) {
      expect(readFileSync(join(dir, `out_text_document.${extension}`))).toEqual(
        readFileSync(join(dir, `ref_text_document.${extension}`)),
      );
    }
    expect(IndexedDataset.open(join(dir, "out_text_document")).length).toBe(2);
    expect(readdirSync(dir).filter((name) => name.includes("tmp"))).toEqual([]);
  });

  it.each(["signatures", "write"] as const)(
    "stops on abort during %s, leaving no file behind",
    async (phase) => {
      const dir = directory();
      const { file } = smallCorpus(dir);
      const controller = new AbortController();
      await expect(
        dedup({
          inputs: [file],
          outputPrefix: join(dir, "out"),
          workers: 1,
          signal: controller.signal,
          onEvent: (event) => {
            if (event.type === "phase" && event.phase === phase) {
              controller.abort();
            }
          },
        }),
      ).rejects.toThrow(/abort/i);
      expect(readdirSync(dir)).toEqual(["small.jsonl"]);
    },
  );

  it("a caller that stops iterating early leaves no file behind", async () => {
    const dir = directory();
    const { file } = smallCorpus(dir);
    const iterator = dedupIter({
      inputs: [file],
      outputPrefix: join(dir, "out"),
      workers: 0,
      progressIntervalMs: 0,
    });
    for await (const event of iterator) {
      if (event.type === "progress" && event.phase === "write") {
        break;
      }
    }
    expect(readdirSync(dir)).toEqual(["small.jsonl"]);
  });

  it("fails with the file and line of bad input, leaving no output", async () => {
    const dir = directory();
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, `${JSON.stringify({ text: "fine" })}\n{"text": 3}\n`);
    for (const workers of [0, 1]) {
      await expect(dedup({ inputs: [file], outputPrefix: join(dir, "out"), workers })).rejects.toThrow(
        `${file}:2: expected an object with a string "text" field`,
      );
    }
    // A bad line in a later batch, with batches in flight on two workers.
    const many = join(dir, "many.jsonl");
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ text: `document number ${i}` }));
    lines[39] = "{not json";
    writeFileSync(many, lines.join("\n"));
    await expect(
      dedup({ inputs: [many], outputPrefix: join(dir, "out"), workers: 2, batchChars: 64 }),
    ).rejects.toThrow(`${many}:40: invalid JSON`);
    await expect(
      dedup({ inputs: [join(dir, "missing.jsonl")], outputPrefix: join(dir, "out") }),
    ).rejects.toThrow(/cannot read input .*missing\.jsonl \(ENOENT\)/);
    await expect(
      dedup({ inputs: [file], outputPrefix: join(dir, "out"), lsh: { bands: 20, rows: 20 } }),
    ).rejects.toThrow(
      /bands x rows must be positive integers with a product <= numPerm \(128\), got 20 x 20/,
    );
    expect(readdirSync(dir).sort()).toEqual(["bad.jsonl", "many.jsonl"]);
  });
});
