import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, it } from "vitest";
import { BYTE_TO_CHAR, loadTokenizerFile, Tokenizer, TokenizerError } from "./node.js";

// Fuzzing: whatever a tokenizer.json holds, `Tokenizer.fromJSON` / `loadTokenizerFile` return a
// tokenizer that encodes and decodes, or throw a TokenizerError (never a TypeError, a RangeError or an
// abort). PYTHIA_FUZZ_RUNS raises the number of cases (`pnpm --filter @pythia/tokenizer test:fuzz`).
const RUNS = Number(process.env.PYTHIA_FUZZ_RUNS ?? 2000);
/** Per-test time limit: a case takes well under 10 ms, so a hang still fails. */
const TIMEOUT = Math.max(60_000, RUNS * 10);

const dir = mkdtempSync(join(tmpdir(), "pythia-tokenizer-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectTypedError(error: unknown): void {
  if (!TokenizerError.isInstance(error)) {
    throw error;
  }
}

/** A small valid byte-level BPE tokenizer.json (256 bytes, two merges, one special token). */
function validJson(): Record<string, unknown> {
  const vocab: Record<string, number> = Object.fromEntries(BYTE_TO_CHAR.map((char, id) => [char, id]));
  vocab["he"] = 256;
  vocab["hel"] = 257;
  vocab["<|endoftext|>"] = 258;
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: 258,
        content: "<|endoftext|>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: { type: "NFC" },
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, vocab, merges: ["h e", "he l"] },
  };
}

const PATHS = [
  [],
  ["version"],
  ["added_tokens"],
  ["added_tokens", 0],
  ["added_tokens", 0, "id"],
  ["added_tokens", 0, "content"],
  ["normalizer"],
  ["normalizer", "type"],
  ["pre_tokenizer"],
  ["pre_tokenizer", "type"],
  ["pre_tokenizer", "add_prefix_space"],
  ["post_processor"],
  ["decoder"],
  ["model"],
  ["model", "type"],
  ["model", "vocab"],
  ["model", "vocab", "he"],
  ["model", "vocab", "a"],
  ["model", "merges"],
  ["model", "merges", 0],
  ["model", "merges", 1],
  ["model", "dropout"],
  ["model", "unk_token"],
  ["model", "byte_fallback"],
] as const;

/** Sets (or deletes, for `undefined`) the value at `path`. */
function setAt(root: Record<string, unknown>, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) {
    return value;
  }
  let node: Record<string | number, unknown> = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) {
      return root;
    }
    node = next as Record<string | number, unknown>;
  }
  const last = path.at(-1) as string | number;
  if (value === undefined && Array.isArray(node)) {
    node.splice(Number(last), 1); // JSON has no holes
  } else if (value === undefined) {
    delete node[last];
  } else {
    node[last] = value;
  }
  return root;
}

const mutatedJson = fc
  .array(fc.tuple(fc.constantFrom(...PATHS), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })), {
    minLength: 1,
    maxLength: 3,
  })
  .map((mutations) => {
    let json: unknown = validJson();
    for (const [path, value] of mutations) {
      json =
        typeof json === "object" && json !== null
          ? setAt(json as Record<string, unknown>, path, value)
          : json;
    }
    return json;
  });

describe("fuzz: the tokenizer.json reader throws only TokenizerError", () => {
  it(
    "Tokenizer.fromJSON on mutated tokenizer.json values",
    () => {
      fc.assert(
        fc.property(mutatedJson, fc.string({ maxLength: 12 }), (json, text) => {
          try {
            const tokenizer = Tokenizer.fromJSON(json, { source: "fuzz.json" });
            tokenizer.decode(tokenizer.encode(text));
          } catch (error) {
            expectTypedError(error);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    "loadTokenizerFile on mutated and truncated file bytes",
    async () => {
      const valid = new TextEncoder().encode(JSON.stringify(validJson()));
      const path = join(dir, "tokenizer.json");
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.nat(valid.length).map((length) => valid.subarray(0, length)),
            fc
              .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
                minLength: 1,
                maxLength: 4,
              })
              .map((flips) => {
                const bytes = valid.slice();
                for (const [at, value] of flips) {
                  bytes[at] = value;
                }
                return bytes;
              }),
          ),
          async (bytes) => {
            writeFileSync(path, bytes);
            try {
              (await loadTokenizerFile(path)).encode("hello");
            } catch (error) {
              expectTypedError(error);
            }
          },
        ),
        { numRuns: Math.ceil(RUNS / 4) },
      );
    },
    TIMEOUT,
  );
});
