// Golden tests against ids made by the Hugging Face tokenizers Rust library (see fixtures/HF-FIXTURES.md).
import { describe, expect, it } from "vitest";
import { loadPileTokenizer } from "../src/index.js";
import { readJsonl } from "./helpers.js";

interface EncodeCase {
  id: string;
  category: string;
  text: string;
  ids: number[];
  tokens: string[];
  decoded?: string;
}
interface DecodeCase {
  id: string;
  why: string;
  ids: number[];
  text: string;
  text_skip_special_tokens: string;
}
interface VersionCase extends EncodeCase {
  why: string;
  node_nfc: string;
  ids_of_node_nfc: number[];
}

const tokenizer = await loadPileTokenizer();
const cases = readJsonl<EncodeCase>("cases.jsonl");

describe("encode matches HF tokenizers 0.22.2", () => {
  it("has all 485 cases", () => {
    expect(cases).toHaveLength(485);
  });
  it.each(cases.map((c) => [`${c.id} ${c.category}`, c] as const))("%s", (_name, c) => {
    expect(tokenizer.encode(c.text)).toEqual(c.ids);
  });
  it("token strings match", () => {
    for (const c of cases) {
      expect(
        c.ids.map((id) => tokenizer.idToToken(id)),
        c.id,
      ).toEqual(c.tokens);
    }
  });
});

describe("decode matches HF tokenizers 0.22.2", () => {
  it.each(cases.map((c) => [c.id, c] as const))("round trip %s", (_name, c) => {
    expect(tokenizer.decode(c.ids)).toBe(c.decoded ?? c.text);
  });
  const decodeCases = readJsonl<DecodeCase>("decode_cases.jsonl");
  it.each(decodeCases.map((c) => [`${c.id}: ${c.why}`, c] as const))("%s", (_name, c) => {
    expect(tokenizer.decode(c.ids)).toBe(c.text);
    expect(tokenizer.decode(c.ids, { skipSpecialTokens: true })).toBe(c.text_skip_special_tokens);
  });
});

describe("NFC follows HF's Unicode 9 tables, not Node's newer ones", () => {
  const versionCases = readJsonl<VersionCase>("nfc_version_sensitive.jsonl");
  it.each(versionCases.map((c) => [`${c.id}: ${c.why}`, c] as const))("%s", (_name, c) => {
    expect(tokenizer.encode(c.text)).toEqual(c.ids);
    expect(tokenizer.decode(c.ids)).toBe(c.decoded);
    // Node's own NFC differs here; the HF-compatible normalizer must not follow it.
    expect(c.node_nfc).not.toBe(c.decoded);
    expect(tokenizer.encode(c.node_nfc)).toEqual(c.ids_of_node_nfc);
  });
});
