import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  bundledTokenizerPath,
  loadTokenizerFile,
  readJsonlTexts,
  TokenizerError,
  TokenizerInputError,
} from "../src/node.js";

describe("loadTokenizerFile", () => {
  it("loads the bundled file", async () => {
    const tokenizer = await loadTokenizerFile(bundledTokenizerPath());
    expect(tokenizer.encode("Hello, world!")).toEqual([12092, 13, 1533, 2]);
  });

  it("names the path and the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-tok-"));
    const broken = join(dir, "tokenizer.json");
    writeFileSync(broken, "{ not json");
    await expect(loadTokenizerFile(join(dir, "missing.json"))).rejects.toThrow(/missing\.json \(ENOENT\)/);
    const error = await loadTokenizerFile(broken).catch((caught: unknown) => caught);
    expect(TokenizerError.isInstance(error)).toBe(true);
    expect((error as TokenizerError).code).toBe("TOKENIZER_FILE");
    expect((error as Error).message).toContain(`${broken} is not valid JSON`);
  });
});

describe("readJsonlTexts", () => {
  it("streams texts and reports the line of a bad one", async () => {
    const texts: string[] = [];
    const input = Readable.from(['{"text":"a"}\r\n{"text":"b"}\n{"text":3}\n']);
    const error = await (async () => {
      for await (const text of readJsonlTexts(input)) {
        texts.push(text);
      }
    })().catch((caught: unknown) => caught);
    expect(texts).toEqual(["a", "b"]);
    expect(error).toBeInstanceOf(TokenizerInputError);
    expect((error as TokenizerInputError).line).toBe(3);
  });
});
