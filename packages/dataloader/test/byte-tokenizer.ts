import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BYTE_TO_CHAR } from "@pythia/tokenizer";

/** Writes a byte-level tokenizer.json without merges (one token per byte, vocabulary 256) into `dir`. */
export function writeByteTokenizer(dir: string): string {
  const path = join(dir, "bytes-tokenizer.json");
  const vocab = Object.fromEntries(BYTE_TO_CHAR.map((char, id) => [char, id]));
  writeFileSync(
    path,
    JSON.stringify({
      version: "1.0",
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: { type: "BPE", vocab, merges: [] },
    }),
  );
  return path;
}
