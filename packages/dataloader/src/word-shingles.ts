/**
 * Word n-gram shingles, as the Pile's near-deduplication built them (EleutherAI/pile_dedupe: 5-grams of
 * `nltk.word_tokenize` tokens joined by a space). A token here is a maximal run of letters, digits,
 * combining marks or `_`, or a single other non-space character (punctuation), which is what
 * `word_tokenize` yields for most text short of its contraction and quote rules; see
 * docs/decisions/0016-minhash-lsh-dedup.md. Case is kept, as there.
 */

import { characterClasses, PUNCTUATION, SPACE, WORD } from "./character-classes.js";

/** Calls `onToken(start, end)` for each word or punctuation token of `text` (UTF-16 offsets). */
export function forEachWordToken(text: string, onToken: (start: number, end: number) => void): void {
  const table = characterClasses();
  const length = text.length;
  let i = 0;
  while (i < length) {
    const kind = table[text.charCodeAt(i)];
    if (kind === SPACE) {
      i++;
    } else if (kind === PUNCTUATION) {
      onToken(i, i + 1);
      i++;
    } else {
      const start = i;
      i++;
      while (i < length && table[text.charCodeAt(i)] === WORD) {
        i++;
      }
      onToken(start, i);
    }
  }
}

/** The tokens of `text` (see the file comment). */
export function wordTokens(text: string): string[] {
  const tokens: string[] = [];
  forEachWordToken(text, (start, end) => tokens.push(text.slice(start, end)));
  return tokens;
}

/**
 * The set of `size`-token shingles of `text`, each its tokens joined by a space. A document with fewer
 * tokens than `size` (but at least one) has one shingle, all its tokens; one without tokens has none.
 */
export function wordShingles(text: string, size: number): Set<string> {
  const tokens = wordTokens(text);
  const shingles = new Set<string>();
  if (tokens.length === 0) {
    return shingles;
  }
  if (tokens.length <= size) {
    shingles.add(tokens.join(" "));
    return shingles;
  }
  for (let i = 0; i + size <= tokens.length; i++) {
    shingles.add(tokens.slice(i, i + size).join(" "));
  }
  return shingles;
}

/** `|A ∩ B| / |A ∪ B|`, and 1 for two empty sets (their MinHash signatures are equal). */
export function exactJaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) {
    return 1;
  }
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const shingle of small) {
    if (large.has(shingle)) {
      shared++;
    }
  }
  return shared / (a.size + b.size - shared);
}
