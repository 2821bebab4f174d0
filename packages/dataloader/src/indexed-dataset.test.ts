import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IndexedDataset, IndexedDatasetBuilder } from "./index.js";
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
      expect(Array.from(dataset.get(i)), `doc ${i}`).toEqual(doc);
    });
  });

  it("reads token ranges inside items and across them", () => {
    expect(Array.from(dataset.get(3, 2, 4))).toEqual(docs[3]!.slice(2, 6));
    const flat = docs.flat();
    expect(Array.from(dataset.readTokens(100, 500))).toEqual(flat.slice(100, 600));
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
