/** `buffer`, or a larger one when `word`'s UTF-8 might not fit (at most 3 bytes per UTF-16 unit). */
export function ensureUtf8Capacity(buffer: Uint8Array<ArrayBuffer>, word: string): Uint8Array<ArrayBuffer> {
  return buffer.length < word.length * 3 ? new Uint8Array(word.length * 3 + 16) : buffer;
}

/**
 * Writes the UTF-8 bytes of `word` into `buffer` (sized by `ensureUtf8Capacity`) and returns their
 * count; lone surrogates become U+FFFD like `TextEncoder`. Faster than `TextEncoder.encodeInto` for
 * the short words BPE sees.
 */
export function writeUtf8(word: string, buffer: Uint8Array): number {
  let at = 0;
  for (let i = 0; i < word.length; i++) {
    let code = word.charCodeAt(i);
    if (code < 0x80) {
      buffer[at++] = code;
      continue;
    }
    if (code < 0x800) {
      buffer[at++] = 0xc0 | (code >> 6);
      buffer[at++] = 0x80 | (code & 0x3f);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = word.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
        buffer[at++] = 0xf0 | (code >> 18);
        buffer[at++] = 0x80 | ((code >> 12) & 0x3f);
        buffer[at++] = 0x80 | ((code >> 6) & 0x3f);
        buffer[at++] = 0x80 | (code & 0x3f);
        continue;
      }
      code = 0xfffd;
    }
    buffer[at++] = 0xe0 | (code >> 12);
    buffer[at++] = 0x80 | ((code >> 6) & 0x3f);
    buffer[at++] = 0x80 | (code & 0x3f);
  }
  return at;
}
