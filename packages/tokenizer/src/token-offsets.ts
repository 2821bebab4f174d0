import { isRustWhitespace } from "./byte-level.js";
import type { Normalize } from "./normalizer.js";

/** tokenizers' ByteLevel `process_offsets`: drop leading/trailing space symbols from a token's span. */
export function trimSpaces(token: string, span: [number, number]): void {
  const chars = [...token];
  const isSpace = (char: string) => char === "Ġ" || isRustWhitespace(char.codePointAt(0) as number);
  let leading = 0;
  while (leading < chars.length && isSpace(chars[leading] as string)) {
    leading++;
  }
  let trailing = 0;
  while (trailing < chars.length && isSpace(chars[chars.length - 1 - trailing] as string)) {
    trailing++;
  }
  if (leading > 0) {
    span[0] = Math.min(span[0] + leading, span[1]);
  }
  if (trailing > 0 && span[1] >= trailing) {
    span[1] = Math.max(span[1] - trailing, span[0]);
  }
}

/**
 * Maps each UTF-16 unit of `normalized` to the span of `original` it came from, the way tokenizers'
 * `NormalizedString` aligns NFC output: normalization runs per base character with its combining
 * marks (and Hangul jamo); inside such a chunk an output character aligns with the input character
 * its first decomposed piece came from, in sequence (so "e\u0301" -> "é" aligns to the "e", and both
 * halves of an expansion align to the expanded character). When per-chunk
 * normalization does not reproduce the whole-string result, every unit maps to the whole segment.
 */
export function alignNormalized(
  original: string,
  normalized: string,
  normalize: Normalize | null,
): { starts: Int32Array; ends: Int32Array } {
  const starts = new Int32Array(normalized.length);
  const ends = new Int32Array(normalized.length);
  let at = 0;
  let rebuilt = "";
  for (const match of original.matchAll(/[\s\S][\p{M}\u1160-\u11ff\ud7b0-\ud7ff]*/gu)) {
    const chunk = normalize ? normalize(match[0]) : match[0];
    rebuilt += chunk;
    // Each input character, repeated once per character of its canonical decomposition: the
    // sequence the Rust normalizer walks. An output character takes the span at the current
    // position and advances by the length of its own decomposition.
    const sources: Array<[number, number]> = [];
    for (let i = 0; i < match[0].length;) {
      const char = String.fromCodePoint(match[0].codePointAt(i) as number);
      const span: [number, number] = [match.index + i, match.index + i + char.length];
      for (let k = [...char.normalize("NFD")].length; k > 0; k--) {
        sources.push(span);
      }
      i += char.length;
    }
    let position = 0;
    for (const char of chunk) {
      const span = sources[Math.min(position, sources.length - 1)] as [number, number];
      for (let u = 0; u < char.length && at < normalized.length; u++, at++) {
        starts[at] = span[0];
        ends[at] = span[1];
      }
      position += [...char.normalize("NFD")].length;
    }
  }
  if (rebuilt !== normalized) {
    starts.fill(0);
    ends.fill(original.length);
  }
  return { starts, ends };
}
