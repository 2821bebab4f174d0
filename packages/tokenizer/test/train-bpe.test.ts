// trainBpe against Hugging Face tokenizers 0.22.2's BpeTrainer (fixtures/bpe-train/README.md): the same
// vocabulary and merges, ties included, and a tokenizer.json our Tokenizer encodes with exactly as with HF's.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Tokenizer, TokenizerError } from "../src/index.js";
import {
  BYTE_TO_CHAR,
  countWords,
  trainBpe,
  trainedTokenizerJson,
  type TrainBpeProgress,
} from "../src/train.js";
import { fixturePath } from "./helpers.js";

interface HfTokenizerJson {
  decoder: unknown;
  post_processor: unknown;
  model: { vocab: Record<string, number>; merges: Array<[string, string]> };
}

function reference(corpus: string): { json: HfTokenizerJson; text: string } {
  const text = readFileSync(fixturePath(`bpe-train/${corpus}.tokenizer.json`), "utf8");
  return { json: JSON.parse(text) as HfTokenizerJson, text };
}

/** HF's file with the decoder and post-processor we write (the fixture's BPEDecoder is irrelevant to training). */
function withOurComponents(text: string): string {
  const byteLevel = '{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}';
  return text.replace(
    '"post_processor":null,"decoder":{"type":"BPEDecoder","suffix":"</w>"}',
    `"post_processor":${byteLevel},"decoder":${byteLevel}`,
  );
}

describe("trainBpe matches HF tokenizers' BpeTrainer exactly", () => {
  for (const [corpus, workers] of [
    ["enwik8_first100", 0],
    ["enwik8_first100", 2],
    ["tinyshakespeare", 2],
  ] as const) {
    it(`${corpus} (${workers} workers): same vocab, merges and file`, async () => {
      const events: TrainBpeProgress[] = [];
      const model = await trainBpe({
        files: [fixturePath(`bpe-train/${corpus}.txt`)],
        workers,
        onProgress: (event) => events.push(event),
      });
      const { json, text } = reference(corpus);
      // token -> id, in id order (the byte comparison below checks the file's order too).
      const hfVocab = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]);
      expect([...model.vocab]).toEqual(hfVocab);
      expect(model.merges.length).toBe(json.model.merges.length);
      expect(model.merges).toEqual(json.model.merges);
      expect(trainedTokenizerJson(model)).toBe(withOurComponents(text));

      const size = readFileSync(fixturePath(`bpe-train/${corpus}.txt`)).length;
      const counting = events.filter((event) => event.type === "count-progress");
      expect(counting.at(-1)).toMatchObject({ bytesRead: size, totalBytes: size });
      expect(events.filter((event) => event.type === "words-counted")).toEqual([
        { type: "words-counted", words: model.words },
      ]);
      expect(events.at(-1)).toEqual({
        type: "merge-progress",
        merges: json.model.merges.length,
        vocabSize: model.vocab.size,
        targetVocabSize: 30000,
      });
    });
  }

  it("the written tokenizer.json encodes Tiny Shakespeare exactly as the HF-trained one", async () => {
    const model = await trainBpe({ files: [fixturePath("bpe-train/tinyshakespeare.txt")], workers: 1 });
    const ours = Tokenizer.fromJSON(JSON.parse(trainedTokenizerJson(model)), { source: "trained" });
    const hf = JSON.parse(withOurComponents(reference("tinyshakespeare").text));
    const theirs = Tokenizer.fromJSON(hf, { source: "bpe-train/tinyshakespeare.tokenizer.json" });
    const corpus = readFileSync(fixturePath("bpe-train/tinyshakespeare.txt"), "utf8");
    const ids = ours.encode(corpus);
    expect(ids).toEqual(theirs.encode(corpus));
    // A vocabulary learned on the corpus compresses it: about 4 bytes per token on Shakespeare.
    expect(corpus.length / ids.length).toBeGreaterThan(3.5);
    expect(ours.decode(ids)).toBe(corpus);
  });
});

describe("trainBpe options", () => {
  const texts = ["low lower lowest", "newer newest wider", "low low low new"];

  it("special tokens take the first ids and become added tokens", async () => {
    const model = await trainBpe({ texts, specialTokens: ["<|endoftext|>", "<|padding|>"], vocabSize: 20 });
    expect(model.vocab.get("<|endoftext|>")).toBe(0);
    expect(model.vocab.get("<|padding|>")).toBe(1);
    expect(model.vocab.size).toBe(20);
    const tokenizer = Tokenizer.fromJSON(JSON.parse(trainedTokenizerJson(model)));
    expect(tokenizer.encode("low<|endoftext|>")).toEqual([...tokenizer.encode("low"), 0]);
    expect(tokenizer.decode(tokenizer.encode("lowest newer"))).toBe("lowest newer");
  });

  it("vocabSize stops merging, minFrequency stops at rarer pairs", async () => {
    const all = await trainBpe({ texts });
    const small = await trainBpe({ texts, vocabSize: 20 });
    expect(small.vocab.size).toBe(20);
    // The first merges are the same: training is deterministic and stopping early cuts the list.
    expect(small.merges).toEqual(all.merges.slice(0, small.merges.length));
    const frequent = await trainBpe({ texts, minFrequency: 4 });
    // "l o" and "lo w" occur 6 times, "Ġ low" 4 times; nothing else reaches 4.
    expect(frequent.merges).toEqual([
      ["l", "o"],
      ["lo", "w"],
      ["Ġ", "low"],
    ]);
  });

  it("initialAlphabet adds characters; limitAlphabet keeps the most frequent", async () => {
    const full = await trainBpe({ texts: ["aaab"], initialAlphabet: ["zq", "é"], vocabSize: 4 });
    // Sorted by code point: a, b, z, é (U+00E9); "q" is ignored (first character only).
    expect([...full.vocab.keys()]).toEqual(["a", "b", "z", "é"]);
    const limited = await trainBpe({ texts: ["aaab c"], limitAlphabet: 2, vocabSize: 100 });
    // Counts a 3, b 1, c 1, Ġ 1: the ties go lowest code point first (HF leaves their order unspecified),
    // so b and c are dropped, and dropped from the words too ("aaab" -> a a a, "Ġc" -> Ġ).
    expect([...limited.vocab.keys()]).toEqual(["a", "Ġ", "aa", "aaa"]);
  });

  it("initialAlphabet: BYTE_TO_CHAR gives all 256 byte symbols, as GPT-NeoX-20B's vocabulary has", async () => {
    const model = await trainBpe({
      texts: ["hello world"],
      specialTokens: ["<|endoftext|>", "<|padding|>"],
      initialAlphabet: BYTE_TO_CHAR,
      vocabSize: 260,
    });
    const ids = [...model.vocab.keys()];
    expect(ids.slice(2, 258)).toEqual(
      [...BYTE_TO_CHAR].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!),
    );
    expect(model.merges).toHaveLength(2);
    const tokenizer = Tokenizer.fromJSON(JSON.parse(trainedTokenizerJson(model)));
    const text = "ÿ\u0000 any bytes € 😀";
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it("an onProgress that throws stops training (and its workers) with that error", async () => {
    const started = performance.now();
    await expect(
      trainBpe({
        files: [fixturePath("bpe-train/tinyshakespeare.txt")],
        workers: 2,
        onProgress: () => {
          throw new Error("stop here");
        },
      }),
    ).rejects.toThrow("stop here");
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("rejects bad parameters with TOKENIZER_INPUT", async () => {
    await expect(trainBpe({ texts, vocabSize: 0 })).rejects.toThrow(/vocabSize must be an integer >= 1/);
    await expect(trainBpe({ texts, minFrequency: -1 })).rejects.toThrow(/minFrequency/);
    await expect(trainBpe({})).rejects.toThrow(/pass `files`/);
    await expect(trainBpe({ texts, specialTokens: [""] })).rejects.toSatisfy(
      (error) => TokenizerError.isInstance(error) && error.code === "TOKENIZER_INPUT",
    );
  });
});

describe("countWords", () => {
  it("gives the same counts on worker threads, in tiny chunks, as on one thread", async () => {
    const file = fixturePath("bpe-train/tinyshakespeare.txt");
    const inline = await drain(countWords({ files: [file], workers: 0 }));
    const chunked = await drain(countWords({ files: [file, file], workers: 2, chunkBytes: 4096 }));
    expect(chunked.size).toBe(inline.size);
    for (const [word, count] of inline) {
      expect(chunked.get(word)).toBe(2 * count);
    }
    expect(inline.get("ĠROMEO")).toBeUndefined(); // raw words, not byte-level
    expect(inline.get("\n")).toBeGreaterThan(7000);
  });

  it("keeps each line's \\n and \\r, reads lines longer than a chunk, and a last line without \\n", async () => {
    const dir = mkdtempSync(join(tmpdir(), "count-words-"));
    const file = join(dir, "lines.txt");
    const long = "word ".repeat(3000);
    writeFileSync(file, `a  \r\n\n${long}\nend`);
    const counts = await drain(countWords({ files: [file], workers: 1, chunkBytes: 64 }));
    expect(Object.fromEntries(counts)).toEqual({
      a: 1,
      "  \r\n": 1,
      "\n": 1,
      word: 1,
      " word": 2999,
      " \n": 1, // a line's trailing white space and its \n are one word
      end: 1,
    });
  });

  it("names the file when it is missing or not UTF-8", async () => {
    await expect(drain(countWords({ files: ["/nonexistent/corpus.txt"] }))).rejects.toThrow(
      /cannot read training file \/nonexistent\/corpus.txt \(ENOENT\)/,
    );
    const dir = mkdtempSync(join(tmpdir(), "count-words-"));
    const file = join(dir, "latin1.txt");
    writeFileSync(file, Buffer.from([0x61, 0x0a, 0xe9, 0x0a]));
    for (const workers of [0, 1]) {
      await expect(drain(countWords({ files: [file], workers }))).rejects.toThrow(
        new RegExp(`${file} is not valid UTF-8`),
      );
    }
  });
});

async function drain<T>(events: AsyncGenerator<unknown, T>): Promise<T> {
  for (;;) {
    const next = await events.next();
    if (next.done === true) {
      return next.value;
    }
  }
}
