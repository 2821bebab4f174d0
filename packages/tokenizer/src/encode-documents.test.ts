import { describe, expect, it } from "vitest";
import { encodeDocuments, loadPileTokenizer } from "./index.js";

const tokenizer = await loadPileTokenizer();

async function* slowly(documents: string[]) {
  for (const document of documents) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    yield document;
  }
}

describe("encodeDocuments", () => {
  it("appends the EOD (0) after every document, from an async source", async () => {
    const out: number[][] = [];
    for await (const ids of encodeDocuments({
      tokenizer,
      documents: slowly(["Hello, world!", "", " the"]),
    })) {
      expect(ids).toBeInstanceOf(Uint32Array);
      out.push([...ids]);
    }
    expect(out).toEqual([[12092, 13, 1533, 2, 0], [0], [253, 0]]);
  });

  it("can leave the EOD out or use another id", async () => {
    const plain: number[][] = [];
    for await (const ids of encodeDocuments({ tokenizer, documents: ["hello"], appendEod: false })) {
      plain.push([...ids]);
    }
    expect(plain).toEqual([[25521]]);
    const custom: number[][] = [];
    for await (const ids of encodeDocuments({ tokenizer, documents: ["hello"], eodId: 1 })) {
      custom.push([...ids]);
    }
    expect(custom).toEqual([[25521, 1]]);
  });

  it("pulls lazily: an endless source is fine", async () => {
    function* endless() {
      for (let i = 0; ; i++) {
        yield `document ${i}`;
      }
    }
    let seen = 0;
    for await (const ids of encodeDocuments({ tokenizer, documents: endless() })) {
      expect(ids[ids.length - 1]).toBe(0);
      if (++seen === 1000) {
        break;
      }
    }
    expect(seen).toBe(1000);
  });

  it("stops when aborted and rejects non-strings", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      encodeDocuments({ tokenizer, documents: ["a"], signal: controller.signal }).next(),
    ).rejects.toThrow();
    await expect(encodeDocuments({ tokenizer, documents: [42 as unknown as string] }).next()).rejects.toThrow(
      /expected every document to be a string, got number/,
    );
  });
});
