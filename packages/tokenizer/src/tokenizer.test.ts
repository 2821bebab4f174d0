import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  loadPileTokenizer,
  normalizeNfcLikeHf,
  Tokenizer,
  TokenizerError,
  TokenizerFormatError,
} from "./index.js";

const tokenizer = await loadPileTokenizer();

describe("the bundled GPT-NeoX-20B tokenizer", () => {
  it("encodes the README example", () => {
    expect(tokenizer.encode("Hello, world!")).toEqual([12092, 13, 1533, 2]);
  });

  it("has the Pythia vocabulary", () => {
    expect(tokenizer.vocabSize).toBe(50277);
    expect(tokenizer.tokenToId("<|endoftext|>")).toBe(0);
    expect(tokenizer.tokenToId("<|padding|>")).toBe(1);
    expect(tokenizer.isSpecial(0)).toBe(true);
    expect(tokenizer.isSpecial(50276)).toBe(false);
    // Added tokens for runs of 24 down to 2 spaces: id = 50278 - number of spaces.
    for (let spaces = 2; spaces <= 24; spaces++) {
      expect(tokenizer.tokenToId(" ".repeat(spaces))).toBe(50278 - spaces);
    }
    expect(tokenizer.idToToken(50277)).toBeNull();
    expect(tokenizer.tokenToId("no such token")).toBeNull();
  });

  it("matches the reference brief's golden ids", () => {
    const golden: Array<[string, number[]]> = [
      ["hello", [25521]],
      [" hello", [23120]],
      ["Hello", [12092]],
      [" Hello", [24387]],
      [" the", [253]],
      [" world", [1533]],
      ["\n", [187]],
      ["\n\n", [535]],
      [" ", [209]],
    ];
    for (const [text, ids] of golden) {
      expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(ids);
    }
  });

  it("is shared between calls", async () => {
    expect(await loadPileTokenizer()).toBe(tokenizer);
  });
});

describe("properties", () => {
  // Unicode text without lone surrogates (JSON and Rust strings cannot hold them).
  const text = fc.string({ unit: "grapheme", maxLength: 80 });
  const mixed = fc.oneof(
    text,
    fc.string({ unit: "binary", maxLength: 80 }).map((s) => s.toWellFormed()),
    fc
      .array(
        fc.constantFrom("the", " ", "  ", "\n", "<|endoftext|>", "é", "e\u0301", "😀", "123", "'s", "\t"),
        {
          maxLength: 30,
        },
      )
      .map((parts) => parts.join("")),
  );

  it("decode(encode(x)) == NFC(x)", () => {
    fc.assert(
      fc.property(mixed, (input) => {
        expect(tokenizer.decode(tokenizer.encode(input))).toBe(normalizeNfcLikeHf(input));
      }),
      { numRuns: 2000 },
    );
  });

  it("encodeBatch == map(encode), and a fresh tokenizer (empty cache) agrees", async () => {
    const { default: json } = await import("../data/gpt-neox-20b/tokenizer.json", { with: { type: "json" } });
    const fresh = Tokenizer.fromJSON(json);
    fc.assert(
      fc.property(fc.array(mixed, { maxLength: 8 }), (inputs) => {
        const batch = tokenizer.encodeBatch(inputs);
        expect(batch).toEqual(inputs.map((input) => tokenizer.encode(input)));
        expect(batch).toEqual(inputs.map((input) => fresh.encode(input)));
      }),
      { numRuns: 300 },
    );
  });

  it("offsets are ordered, inside the text, one per id", () => {
    fc.assert(
      fc.property(mixed, (input) => {
        const { ids, offsets, tokens } = tokenizer.encodeWithOffsets(input);
        expect(ids).toEqual(tokenizer.encode(input));
        expect(offsets).toHaveLength(ids.length);
        expect(tokens).toHaveLength(ids.length);
        let previous = 0;
        for (const [start, end] of offsets) {
          expect(start).toBeLessThanOrEqual(end);
          expect(end).toBeLessThanOrEqual(input.length);
          expect(start).toBeGreaterThanOrEqual(Math.min(previous, start));
          previous = start;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("lone surrogates encode like their U+FFFD replacement", () => {
    expect(tokenizer.encode("a\ud800b")).toEqual(tokenizer.encode("a\ufffdb"));
  });
});

describe("very long input", () => {
  it("merges a 5000-character word and a 100k-character text", () => {
    const word = "ab".repeat(2500);
    const ids = tokenizer.encode(word);
    expect(tokenizer.decode(ids)).toBe(word);
    const long = "The quick brown fox jumps over the lazy dog. ".repeat(2300);
    expect(tokenizer.decode(tokenizer.encode(long))).toBe(long);
  });
});

describe("tokenizer.json validation", () => {
  const minimal = () => ({
    version: "1.0",
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel" },
    model: {
      type: "BPE",
      vocab: { a: 0, b: 1, ab: 2 } as Record<string, number>,
      merges: ["a b"] as unknown[],
    },
  });

  it("builds a small tokenizer, with both merge spellings", () => {
    expect(Tokenizer.fromJSON(minimal()).encode("abab")).toEqual([2, 2]);
    const pairs = minimal();
    pairs.model.merges = [["a", "b"]];
    expect(Tokenizer.fromJSON(pairs).encode("ab")).toEqual([2]);
  });

  it("add_prefix_space prepends a space to each piece", () => {
    const config = minimal();
    config.pre_tokenizer.add_prefix_space = true;
    config.model.vocab = { a: 0, Ġ: 1, Ġa: 2 };
    config.model.merges = ["Ġ a"];
    const prefixed = Tokenizer.fromJSON(config);
    expect(prefixed.encode("a")).toEqual([2]);
    expect(prefixed.encodeWithOffsets("a").offsets).toEqual([[0, 1]]);
  });

  const rejects: Array<[string, (config: ReturnType<typeof minimal>) => void, string]> = [
    ["model.type", (c) => void (c.model.type = "WordPiece"), 'field "model.type"'],
    [
      "normalizer.type",
      (c) => void ((c as { normalizer: unknown }).normalizer = { type: "Lowercase" }),
      'field "normalizer.type"',
    ],
    ["pre_tokenizer.type", (c) => void (c.pre_tokenizer.type = "Whitespace"), 'field "pre_tokenizer.type"'],
    ["decoder.type", (c) => void (c.decoder.type = "WordPiece"), 'field "decoder.type"'],
    ["merges out of vocab", (c) => void (c.model.merges = ["a c"]), 'field "model.merges[0]"'],
    ["malformed merge", (c) => void (c.model.merges = ["abc"]), 'field "model.merges[0]"'],
    [
      "lstrip added token",
      (c) =>
        void ((c as { added_tokens: unknown[] }).added_tokens = [{ id: 3, content: "<x>", lstrip: true }]),
      'field "added_tokens[0].lstrip"',
    ],
  ];
  it.each(rejects)("rejects %s with a typed error naming the field", (_name, mutate, field) => {
    const config = minimal();
    mutate(config);
    let caught: unknown;
    try {
      Tokenizer.fromJSON(config, { source: "my/tokenizer.json" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TokenizerFormatError);
    expect(TokenizerError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toContain("my/tokenizer.json");
    expect((caught as Error).message).toContain(field);
  });

  it("rejects a non-object", () => {
    expect(() => Tokenizer.fromJSON([], { source: "x.json" })).toThrow(/x\.json: field "\(root\)"/);
  });
});

describe("added tokens", () => {
  it("normalized added tokens match the normalized text (an NFD token matches NFC input)", () => {
    const tokenizer = Tokenizer.fromJSON({
      added_tokens: [{ id: 5, content: "cafe\u0301", normalized: true, special: false }],
      normalizer: { type: "NFC" },
      pre_tokenizer: { type: "ByteLevel", add_prefix_space: false },
      decoder: { type: "ByteLevel" },
      model: { type: "BPE", vocab: { a: 0, b: 1 }, merges: [] },
    });
    expect(tokenizer.encode("ab café ba")).toEqual([0, 1, 5, 1, 0]);
    expect(tokenizer.encode("ab cafe\u0301 ba")).toEqual([0, 1, 5, 1, 0]);
  });
});
