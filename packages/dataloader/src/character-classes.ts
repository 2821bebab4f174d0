// The word tokenizer's character table, shared by `word-shingles.ts` (strings) and `min-hasher.ts` (hashes).

/** Character classes of the word tokenizer (see `word-shingles.ts`). */
export const SPACE = 0;
/** Letters, digits, combining marks, `_` and surrogates: runs of them form a token. */
export const WORD = 1;
/** Any other character: a token of its own. */
export const PUNCTUATION = 2;

let classes: Uint8Array | null = null;

/** The class of each UTF-16 code unit, built once on first use (surrogates count as word characters). */
export function characterClasses(): Uint8Array {
  if (classes !== null) {
    return classes;
  }
  const table = new Uint8Array(0x10000);
  const space = /\s/u;
  const word = /[\p{L}\p{N}\p{M}_]/u;
  for (let code = 0; code < 0x10000; code++) {
    if (code >= 0xd800 && code <= 0xdfff) {
      table[code] = WORD;
      continue;
    }
    const character = String.fromCharCode(code);
    table[code] = space.test(character)
      ? SPACE
      : word.test(character)
        ? WORD
        : code < 0x20 || code === 0x7f
          ? SPACE
          : PUNCTUATION;
  }
  classes = table;
  return table;
}

/**
 * Hashes each word or punctuation token of `text` (FNV-1a over its UTF-16 code units, then `fmix32`)
 * into `out` (grown when full); returns the array written and the number of tokens. The same tokens as
 * `forEachWordToken`, without a callback per token.
 */
export function hashWordTokens(
  text: string,
  out: Uint32Array<ArrayBuffer>,
): { hashes: Uint32Array<ArrayBuffer>; count: number } {
  const table = characterClasses();
  const length = text.length;
  let hashes = out;
  let count = 0;
  let i = 0;
  while (i < length) {
    const kind = table[text.charCodeAt(i)];
    if (kind === SPACE) {
      i++;
      continue;
    }
    let h = Math.imul(0x811c9dc5 ^ text.charCodeAt(i), 0x01000193);
    i++;
    if (kind === WORD) {
      while (i < length) {
        const code = text.charCodeAt(i);
        if (table[code] !== WORD) {
          break;
        }
        h = Math.imul(h ^ code, 0x01000193);
        i++;
      }
    }
    if (count === hashes.length) {
      const bigger = new Uint32Array(count * 2);
      bigger.set(hashes);
      hashes = bigger;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    hashes[count++] = (h ^ (h >>> 16)) >>> 0;
  }
  return { hashes, count };
}
