import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { describe, expect, it } from "vitest";
import { IndexedDataset, preprocess, type PreprocessEvent } from "./index.js";
import { fixturePath } from "../test/helpers.js";

const tokenizer = await loadPileTokenizer();

function corpus(): { dir: string; texts: string[]; jsonl: string } {
  const dir = mkdtempSync(join(tmpdir(), "pythia-pre-"));
  const texts = Array.from(
    { length: 300 },
    (_, i) => `Document ${i}: ${"the quick brown fox ".repeat(i % 7)}é😀\n`,
  );
  const lines = texts.map((text, i) =>
    JSON.stringify(i === 5 ? { text, meta: { pile_set_name: "x" } } : { text }),
  );
  lines.splice(10, 0, JSON.stringify({ text: "" })); // empty documents are dropped, like GPT-NeoX
  const jsonl = join(dir, "corpus.jsonl");
  writeFileSync(jsonl, lines.join("\r\n") + "\n");
  return { dir, texts, jsonl };
}

describe("preprocess", () => {
  it.each([0, 1, 2])(
    "tokenizes JSONL with %i worker(s) into one item per document + EOD, in order",
    async (workers) => {
      const { dir, texts, jsonl } = corpus();
      const events: PreprocessEvent[] = [];
      const summary = await preprocess({
        inputs: [jsonl],
        outputPrefix: join(dir, "out"),
        workers,
        batchChars: 2000,
        progressIntervalMs: 0,
        onEvent: (event) => events.push(event),
      });
      expect(summary.prefix).toBe(join(dir, "out_text_document"));
      expect(summary.documents).toBe(300);
      expect(summary.dtype).toBe("uint16");
      const dataset = IndexedDataset.open(summary.prefix);
      texts.forEach((text, i) => {
        expect(Array.from(dataset.get(i), Number), `document ${i}`).toEqual([...tokenizer.encode(text), 0]);
      });
      expect(summary.tokens).toBe(dataset.tokenCount);
      const last = events.filter((event) => event.type === "progress").at(-1);
      expect(last).toMatchObject({ documents: 300, tokens: dataset.tokenCount });
      expect(events[0]).toEqual({ type: "file-start", file: jsonl, index: 0 });
      dataset.close();
      expect(readdirSync(dir).sort()).toEqual([
        "corpus.jsonl",
        "out_text_document.bin",
        "out_text_document.idx",
      ]);
    },
  );

  it("reads .jsonl.zst (the Pile's format) and plain text", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-zst-"));
    // corpus.jsonl.zst: 3 documents, compressed with the zstd CLI (see test/fixtures/README-preprocess.md).
    const text = join(dir, "notes.txt");
    writeFileSync(text, "A plain text file is one document.\n\nEven with blank lines.");
    const summary = await preprocess({
      inputs: [fixturePath("corpus.jsonl.zst"), text],
      outputPrefix: join(dir, "mixed"),
      workers: 0,
    });
    const dataset = IndexedDataset.open(summary.prefix);
    const expected = [
      ...readFileSync(fixturePath("corpus.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).text as string),
      readFileSync(text, "utf8"),
    ];
    expect(dataset.length).toBe(expected.length);
    expected.forEach((document, i) => {
      expect(Array.from(dataset.get(i), Number)).toEqual([...tokenizer.encode(document), 0]);
    });
  });

  it("reports a bad line with file and line number and leaves no output behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-bad-"));
    const input = join(dir, "bad.jsonl");
    writeFileSync(input, '{"text": "ok"}\n{"text": 5}\n');
    await expect(preprocess({ inputs: [input], outputPrefix: join(dir, "out"), workers: 0 })).rejects.toThrow(
      `${input}:2: expected an object with a string "text" field`,
    );
    writeFileSync(input, '{"text": "ok"}\n{oops}\n');
    await expect(preprocess({ inputs: [input], outputPrefix: join(dir, "out"), workers: 1 })).rejects.toThrow(
      `${input}:2: invalid JSON`,
    );
    await expect(
      preprocess({ inputs: [join(dir, "missing.jsonl")], outputPrefix: join(dir, "out") }),
    ).rejects.toThrow(/cannot read input .*missing\.jsonl \(ENOENT\)/);
    expect(readdirSync(dir)).toEqual(["bad.jsonl"]);
  });

  it("stops on abort without leaving files", async () => {
    const { dir, jsonl } = corpus();
    const controller = new AbortController();
    controller.abort();
    await expect(
      preprocess({ inputs: [jsonl], outputPrefix: join(dir, "out"), signal: controller.signal }),
    ).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["corpus.jsonl"]);
  });
});

describe("preprocess output location", () => {
  it("creates the output directory, and a failing start leaves no worker behind", async () => {
    const { dir, jsonl } = corpus();
    const summary = await preprocess({
      inputs: [jsonl],
      outputPrefix: join(dir, "nested/deeper/out"),
      workers: 1,
    });
    expect(summary.prefix).toBe(join(dir, "nested/deeper/out_text_document"));
    await expect(
      preprocess({ inputs: [jsonl], outputPrefix: join(dir, "bad"), workers: 1, dtype: "uint32" as never }),
    ).rejects.toThrow(/unknown dtype "uint32"/);
  });
});
