/**
 * GPT-2 byte-level alphabet and split pattern, as used by the Hugging Face `ByteLevel`
 * pre-tokenizer and decoder.
 *
 * Why a byte alphabet: BPE merges need printable symbols, and every byte sequence must be
 * representable. GPT-2 maps the 188 printable Latin-1 bytes to themselves and shifts the other 68
 * (control bytes, space, 0x7F-0xA0, 0xAD) to U+0100..U+0143, so that " world" becomes "Ġworld"
 * (minGPT's `bpe.py` `bytes_to_unicode()` docstring explains the idea best).
 */

/** `BYTE_TO_CHAR[b]` is the byte-level symbol of byte `b`. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** Inverse of `BYTE_TO_CHAR`: symbol code point -> byte. */
export const CHAR_TO_BYTE: ReadonlyMap<number, number> = new Map(
  BYTE_TO_CHAR.map((char, byte) => [char.codePointAt(0) ?? 0, byte]),
);

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) {
    printable.push(b);
  }
  for (let b = 0xa1; b <= 0xac; b++) {
    printable.push(b);
  }
  for (let b = 0xae; b <= 0xff; b++) {
    printable.push(b);
  }
  const table = new Array<string>(256);
  const isPrintable = new Set(printable);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(isPrintable.has(b) ? b : 256 + shifted++);
  }
  return table;
}

/**
 * White space as Oniguruma's Unicode `\s` sees it (the regex engine behind HF tokenizers):
 * U+0009-000D, U+0085, and General_Category Zs/Zl/Zp. JavaScript's `\s` differs: it adds U+FEFF
 * and leaves out U+0085, so the pattern spells the class out.
 */
const WS = "\\t-\\r\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/**
 * The GPT-2 split pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
 * with `\s` replaced by Oniguruma's white space. It matches every character, so consecutive
 * matches tile the input. Callers must reset `lastIndex` (the regex is global and shared).
 */
export const GPT2_SPLIT_PATTERN = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`,
  "gu",
);

/** True when `codePoint` is white space in the sense of Rust's `char::is_whitespace`. */
export function isRustWhitespace(codePoint: number): boolean {
  return (
    (codePoint >= 0x09 && codePoint <= 0x0d) ||
    codePoint === 0x20 ||
    codePoint === 0x85 ||
    codePoint === 0xa0 ||
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000
  );
}
