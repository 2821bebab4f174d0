import { TokenizerFormatError } from "./errors.js";
import type { BpeModelFormat, ByteLevelComponentFormat, TokenizerFileFormat } from "./tokenizer-format.js";

/** An entry of the tokenizer's added vocabulary (matched in text before BPE runs). */
export interface AddedToken {
  id: number;
  content: string;
  /** Special tokens are dropped by `decode(ids, { skipSpecialTokens: true })`. */
  special: boolean;
  /** Matched against the normalized text (true) or the raw text (false). */
  normalized: boolean;
}

/** The BPE `model` section, checked for the components this implementation supports. */
export function readModel(file: TokenizerFileFormat, source: string): BpeModelFormat {
  const model = file.model;
  if (typeof model !== "object" || model === null) {
    throw new TokenizerFormatError({
      source,
      field: "model",
      message: "missing; expected a BPE model object",
    });
  }
  if (model.type !== "BPE") {
    throw new TokenizerFormatError({
      source,
      field: "model.type",
      message: `model type "${String(model.type)}" is not supported; only byte-level "BPE" tokenizers (GPT-2, GPT-NeoX, Pythia) are`,
      unsupported: true,
    });
  }
  if (typeof model.vocab !== "object" || model.vocab === null || Array.isArray(model.vocab)) {
    throw new TokenizerFormatError({
      source,
      field: "model.vocab",
      message: "expected an object of token -> id",
    });
  }
  if (!Array.isArray(model.merges)) {
    throw new TokenizerFormatError({ source, field: "model.merges", message: "expected an array of merges" });
  }
  const unsupported = (field: string, value: unknown) =>
    new TokenizerFormatError({
      source,
      field: `model.${field}`,
      message: `${JSON.stringify(value)} is not supported by this byte-level BPE implementation; remove it or use the Rust tokenizers library`,
      unsupported: true,
    });
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) {
    throw unsupported("dropout", model.dropout);
  }
  if (model.continuing_subword_prefix) {
    throw unsupported("continuing_subword_prefix", model.continuing_subword_prefix);
  }
  if (model.end_of_word_suffix) {
    throw unsupported("end_of_word_suffix", model.end_of_word_suffix);
  }
  if (model.byte_fallback) {
    throw unsupported("byte_fallback", model.byte_fallback);
  }
  return model;
}

/** The ByteLevel pre-tokenizer's settings (alone or as the only member of a Sequence). */
export function readByteLevel(
  file: TokenizerFileFormat,
  source: string,
): { addPrefixSpace: boolean; useRegex: boolean } {
  let config = file.pre_tokenizer;
  let field = "pre_tokenizer";
  if (config?.type === "Sequence" && config.pretokenizers?.length === 1) {
    config = config.pretokenizers[0];
    field = "pre_tokenizer.pretokenizers[0]";
  }
  if (config === null || config === undefined || config.type !== "ByteLevel") {
    throw new TokenizerFormatError({
      source,
      field: `${field}.type`,
      message: `pre-tokenizer "${String(config?.type ?? null)}" is not supported; expected "ByteLevel"`,
      unsupported: true,
    });
  }
  return { addPrefixSpace: config.add_prefix_space ?? true, useRegex: config.use_regex ?? true };
}

/** `post_processor` or `decoder`: `null`, or a ByteLevel component (anything else is rejected). */
export function readOptionalByteLevel(
  file: TokenizerFileFormat,
  key: "post_processor" | "decoder",
  source: string,
): ByteLevelComponentFormat | null {
  const config = file[key];
  if (config === null || config === undefined) {
    return null;
  }
  if (config.type !== "ByteLevel") {
    throw new TokenizerFormatError({
      source,
      field: `${key}.type`,
      message: `${key} "${String(config.type)}" is not supported; expected "ByteLevel" or null`,
      unsupported: true,
    });
  }
  return config;
}

/** The `added_tokens` section, sorted by id. */
export function readAddedTokens(file: TokenizerFileFormat, source: string): AddedToken[] {
  const entries = file.added_tokens ?? [];
  if (!Array.isArray(entries)) {
    throw new TokenizerFormatError({ source, field: "added_tokens", message: "expected an array" });
  }
  return entries
    .map((entry, index): AddedToken => {
      const field = `added_tokens[${index}]`;
      if (typeof entry?.content !== "string" || !Number.isInteger(entry.id)) {
        throw new TokenizerFormatError({
          source,
          field,
          message: "expected { id: integer, content: string }",
        });
      }
      for (const flag of ["lstrip", "rstrip", "single_word"] as const) {
        if (entry[flag]) {
          throw new TokenizerFormatError({
            source,
            field: `${field}.${flag}`,
            message: `added token ${JSON.stringify(entry.content)} sets ${flag}, which is not supported`,
            unsupported: true,
          });
        }
      }
      const special = entry.special ?? false;
      return { id: entry.id, content: entry.content, special, normalized: entry.normalized ?? !special };
    })
    .sort((a, b) => a.id - b.id);
}
