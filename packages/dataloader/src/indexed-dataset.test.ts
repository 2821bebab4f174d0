import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DtypeName, IndexedDataset, IndexedDatasetBuilder } from "./index.js";
import { fixturePath, readJsonFixture } from "../test/helpers.js";

const docs = readJsonFixture<number[][]>("docs.json");

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("IndexedDatasetBuilder", () => {
  it("writes the GPT-NeoX reference bytes for the 200 fixture documents", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-data-"));
    const builder = IndexedDatasetBuilder.create({
      prefix: join(dir, "random_text_document"),
      dtype: "uint16",
    });
    for (const doc of docs) {
      builder.addItem(doc);
      builder.endDocument();
    }
    const summary = builder.finalize();
    expect(summary).toMatchObject({ items: 200, documents: 200, tokens: 31358, dtype: "uint16" });
    expect(readFileSync(join(dir, "random_text_document.bin"))).toEqual(
      readFileSync(fixturePath("random_text_document.bin")),
    );
    expect(readFileSync(join(dir, "random_text_document.idx"))).toEqual(
      readFileSync(fixturePath("random_text_document.idx")),
    );
    expect(sha256(join(dir, "random_text_document.bin"))).toBe(
      "566ff40ec7ac0155ac81e09a651411d9da12bdf330b84a9015cee247362502ef",
    );
    expect(sha256(join(dir, "random_text_document.idx"))).toBe(
      "aeb9c6648e09959be391c54fcff12ec060faaa8878b87a458791ccb8b8177d87",
    );
    expect(readdirSync(dir).sort()).toEqual(["random_text_document.bin", "random_text_document.idx"]);
  });
});

describe("IndexedDataset", () => {
  const dataset = IndexedDataset.open(fixturePath("random_text_document"));

  it("reads back every document of the reference file", () => {
    expect(dataset.length).toBe(200);
    expect(dataset.dtype.name).toBe("uint16");
    expect(dataset.tokenCount).toBe(31358);
    expect(Array.from(dataset.documentIndex)).toEqual(Array.from({ length: 201 }, (_, i) => i));
    docs.forEach((doc, i) => {
      expect(Array.from(dataset.get(i), Number), `doc ${i}`).toEqual(doc);
    });
  });

  it("reads token ranges inside items and across them", () => {
    expect(Array.from(dataset.get(3, 2, 4), Number)).toEqual(docs[3]!.slice(2, 6));
    const flat = docs.flat();
    expect(Array.from(dataset.readTokens(100, 500), Number)).toEqual(flat.slice(100, 600));
    const into = new Uint16Array(10);
    dataset.readTokens(7, 5, into, 5);
    expect(Array.from(into.subarray(5))).toEqual(flat.slice(7, 12));
  });

  it("rejects out-of-range reads with typed errors", () => {
    expect(() => dataset.get(200)).toThrow(/item 200 is out of range \[0, 200\)/);
    expect(() => dataset.get(0, 0, 10_000)).toThrow(/outside item 0/);
    expect(() => dataset.readTokens(31350, 20)).toThrow(/outside the file's 31358 tokens/);
  });

  it("finds token ids outside a vocabulary", () => {
    expect(dataset.checkVocab(50277)).toBeNull();
    const max = Math.max(...docs.flat());
    const violation = dataset.checkVocab(max);
    expect(violation?.value).toBe(max);
    const item = docs.findIndex((doc) => doc.includes(max));
    expect(violation?.item).toBe(item);
    expect(docs[item]![violation!.position]).toBe(max);
  });
});

describe("every dtype round-trips", () => {
  const cases: Array<[DtypeName, number, number]> = [
    ["uint8", 0, 255],
    ["int8", -128, 127],
    ["int16", -32768, 32767],
    ["int32", -(2 ** 31), 2 ** 31 - 1],
    ["int64", -(2 ** 40), 2 ** 40],
    ["float32", -1000, 1000],
    ["float64", -1e12, 1e12],
    ["uint16", 0, 65535],
  ];
  it.each(cases)("%s", (dtype, min, max) => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min, max }), { maxLength: 40 }), { maxLength: 12 }),
        (documents) => {
          const dir = mkdtempSync(join(tmpdir(), "pythia-dtype-"));
          const builder = IndexedDatasetBuilder.create({ prefix: join(dir, "x"), dtype });
          for (const doc of documents) {
            builder.addItem(doc);
            builder.endDocument();
          }
          builder.finalize();
          const dataset = IndexedDataset.open(join(dir, "x"));
          expect(dataset.dtype.name).toBe(dtype);
          expect(documents.map((_, i) => Array.from(dataset.get(i), Number))).toEqual(documents);
          dataset.close();
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe("IndexedDatasetBuilder errors", () => {
  it("refuses values that do not fit instead of wrapping them", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-fit-"));
    const builder = IndexedDatasetBuilder.create({ prefix: join(dir, "x"), dtype: "uint16" });
    builder.addItem([1, 2]);
    expect(() => builder.addItem([3, 70000])).toThrow(/item 1, position 1: value 70000 does not fit uint16/);
    const vocab = IndexedDatasetBuilder.create({ prefix: join(dir, "y"), vocabSize: 50277 });
    expect(() => vocab.addItem([50277])).toThrow(/with vocabulary size 50277/);
    expect(() =>
      IndexedDatasetBuilder.create({ prefix: join(dir, "z"), dtype: "uint32" as DtypeName }),
    ).toThrow(/unknown dtype "uint32"/);
    builder.abort();
    vocab.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("leaves nothing under the final name until finalize, and cannot be reused", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-atomic-"));
    const builder = IndexedDatasetBuilder.create({ prefix: join(dir, "x") });
    builder.addItem([5, 6, 0]);
    builder.endDocument();
    expect(readdirSync(dir).some((name) => name === "x.bin" || name === "x.idx")).toBe(false);
    builder.finalize();
    expect(readdirSync(dir).sort()).toEqual(["x.bin", "x.idx"]);
    expect(() => builder.addItem([1])).toThrow(/already finalized or aborted/);
  });

  it("names an output directory that does not exist", () => {
    expect(() => IndexedDatasetBuilder.create({ prefix: "/no/such/dir/x" })).toThrow(
      /output directory exists/,
    );
  });
});
