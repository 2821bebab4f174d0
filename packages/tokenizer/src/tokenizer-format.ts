/**
 * Wire types for Hugging Face `tokenizer.json` (tokenizers >= 0.10 "version 1.0" files).
 * Field names keep the file's snake_case spelling; `tokenizer.ts` maps them to the domain types.
 * Only the components a byte-level BPE tokenizer needs are spelled out; anything else is read as
 * `{ type: string }` and rejected with a `TokenizerFormatError` that names the field.
 */

/** One entry of `added_tokens`. */
export interface AddedTokenFormat {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** `normalizer`: NFC and friends, or a `Sequence` of them. */
export interface NormalizerFormat {
  type: string;
  normalizers?: NormalizerFormat[];
}

/** `pre_tokenizer` of type `ByteLevel` (or a `Sequence` holding exactly one). */
export interface PreTokenizerFormat {
  type: string;
  add_prefix_space?: boolean;
  trim_offsets?: boolean;
  use_regex?: boolean;
  pretokenizers?: PreTokenizerFormat[];
}

/** `decoder` / `post_processor` of type `ByteLevel`. */
export interface ByteLevelComponentFormat {
  type: string;
  add_prefix_space?: boolean;
  trim_offsets?: boolean;
  use_regex?: boolean;
}

/** `model` of type `BPE`. Merges are `"a b"` strings (tokenizers < 0.20) or `[a, b]` pairs. */
export interface BpeModelFormat {
  type: string;
  vocab: Record<string, number>;
  merges: Array<string | [string, string]>;
  dropout?: number | null;
  unk_token?: string | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  fuse_unk?: boolean;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
}

/** The whole `tokenizer.json` document. */
export interface TokenizerFileFormat {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens?: AddedTokenFormat[];
  normalizer?: NormalizerFormat | null;
  pre_tokenizer?: PreTokenizerFormat | null;
  post_processor?: ByteLevelComponentFormat | null;
  decoder?: ByteLevelComponentFormat | null;
  model: BpeModelFormat;
}
