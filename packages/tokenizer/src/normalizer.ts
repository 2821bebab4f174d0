import { TokenizerFormatError } from "./errors.js";
import type { NormalizerFormat } from "./tokenizer-format.js";
import {
  POST_UNICODE9_NORMALIZATION_CHARS,
  POST_UNICODE9_NORMALIZATION_CHARS_GLOBAL,
} from "./unicode9-nfc-table.js";

/** A text normalizer: a pure function from string to string. */
export type Normalize = (text: string) => string;

/**
 * NFC exactly as Hugging Face tokenizers computes it (Unicode 9.0 tables; see
 * docs/decisions/0004-nfc-unicode-9.md). The running Node's `normalize("NFC")` is used for every run
 * of text between characters that Unicode 9 did not have; those characters, which had no
 * normalization behaviour in Unicode 9, are kept as they are.
 */
export function normalizeNfcLikeHf(text: string): string {
  if (!POST_UNICODE9_NORMALIZATION_CHARS.test(text)) {
    return text.normalize("NFC");
  }
  let out = "";
  let last = 0;
  for (const match of text.matchAll(POST_UNICODE9_NORMALIZATION_CHARS_GLOBAL)) {
    out += text.slice(last, match.index).normalize("NFC") + match[0];
    last = match.index + match[0].length;
  }
  return out + text.slice(last).normalize("NFC");
}

/** Builds the normalizer described by a `tokenizer.json` `normalizer` field (`null` = identity). */
export function createNormalizer(
  config: NormalizerFormat | null | undefined,
  source: string,
  field = "normalizer",
): Normalize | null {
  if (config === null || config === undefined) {
    return null;
  }
  switch (config.type) {
    case "NFC":
      return normalizeNfcLikeHf;
    case "NFD":
      return (text) => text.normalize("NFD");
    case "NFKC":
      return (text) => text.normalize("NFKC");
    case "NFKD":
      return (text) => text.normalize("NFKD");
    case "Sequence": {
      const parts = (config.normalizers ?? [])
        .map((part, index) => createNormalizer(part, source, `${field}.normalizers[${index}]`))
        .filter((part): part is Normalize => part !== null);
      if (parts.length === 0) {
        return null;
      }
      return (text) => parts.reduce((acc, normalize) => normalize(acc), text);
    }
    default:
      throw new TokenizerFormatError({
        source,
        field: `${field}.type`,
        message: `normalizer type "${String(config.type)}" is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence)`,
        unsupported: true,
      });
  }
}
