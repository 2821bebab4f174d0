// Token offsets against the HF tokenizers Rust library (fixture made by scripts/make-offsets-fixture.mjs).
import { describe, expect, it } from "vitest";
import { loadPileTokenizer } from "../src/index.js";
import { readJsonl } from "./helpers.js";

interface OffsetCase {
  text: string;
  ids: number[];
  offsets: Array<[number, number]>;
}

const tokenizer = await loadPileTokenizer();
const cases = readJsonl<OffsetCase>("offsets.jsonl");

/** UTF-16 index -> code point index, as the Rust binding reports offsets in code points. */
function toCodePoints(text: string, index: number): number {
  return [...text.slice(0, index)].length;
}

describe("encodeWithOffsets", () => {
  it.each(cases.map((c, i) => [`${i}: ${JSON.stringify(c.text).slice(0, 50)}`, c] as const))(
    "%s",
    (_name, c) => {
      const encoding = tokenizer.encodeWithOffsets(c.text);
      expect(encoding.ids).toEqual(c.ids);
      expect(encoding.tokens).toEqual(c.ids.map((id) => tokenizer.idToToken(id)));
      const asCodePoints = encoding.offsets.map(([start, end]) => [
        toCodePoints(c.text, start),
        toCodePoints(c.text, end),
      ]);
      expect(asCodePoints).toEqual(c.offsets);
    },
  );

  it("spans are UTF-16 indices usable with String.prototype.slice", () => {
    const text = "😀 hello";
    const { offsets } = tokenizer.encodeWithOffsets(text);
    expect(offsets.map(([start, end]) => text.slice(start, end))).toEqual(["😀", "😀", "😀", "hello"]);
  });
});
