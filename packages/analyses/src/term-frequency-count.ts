/**
 * The windows of Pythia's `case-studies/term_frequency` frequency count (Razeghi et al. 2022), as the
 * script runs them with Python's `re` on each decoded 2049-token row with a space prepended:
 *
 * - number windows (the script's `search_string_lazy`, which despite its name repeats `{1,3}` greedily):
 *   `(?=( \d{1,5} ((\w|[punct])+\s+){1,3}\d{1,5}))`; every number of a window (`\d{1,5}` runs, sorted
 *   numerically) counts as a unigram key `"n"`, every pair of them as `"a-b"` (a ≤ b);
 * - time-unit windows, a number before a unit or a unit before a number with 0–3 tokens between
 *   (lazy): every number × every unit substring of the window counts as `"n-unit"`.
 *
 * Python's `re` classes are Unicode-aware, so the patterns use Unicode classes: `\d` = `\p{Nd}`,
 * `\w` = letters, numbers and `_`, `\s` = Python's `str.isspace` set. Matching runs over code points
 * (the `u` flag), as Python does. No tfjs here: worker threads import this file alone.
 */

/** Python's `string.punctuation`, escaped for a character class. */
const PUNCT = "!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~";
/** Python's `\s` for str patterns (`str.isspace`). */
const SPACE =
  "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/** One in-between token: `(\w|[punct])+` then `\s+`. */
const TOKEN = `[\\p{L}\\p{N}_${PUNCT}]+${SPACE}+`;
const DIGITS = "\\p{Nd}{1,5}";

/** The time units of the script, matched as substrings (so "minutes" and "days" count). */
export const TIME_UNITS = ["minute", "hour", "day", "week", "month", "year", "decade"] as const;
const UNIT = TIME_UNITS.join("|");

/** Number windows (overlapping: a lookahead, so every start position is tried). */
export const NUMBER_WINDOW = new RegExp(`(?=( ${DIGITS} (?:${TOKEN}){1,3}${DIGITS}))`, "gu");
/** A number, then 0–3 tokens, then a time unit. */
export const NUMBER_UNIT_WINDOW = new RegExp(`(?=( ${DIGITS} (?:${TOKEN}){0,3}?(?:${UNIT})))`, "gu");
/** A time unit, a space, 0–3 tokens, then a number. */
export const UNIT_NUMBER_WINDOW = new RegExp(`(?=( (?:${UNIT}) (?:${TOKEN}){0,3}?${DIGITS}))`, "gu");

const NUMBER = /\p{Nd}{1,5}/gu;
const UNIT_MATCH = new RegExp(UNIT, "gu");
const DECIMAL = /\p{Nd}/u;

/** Counts by key (`"12"`, `"3-12"`, `"5-minute"`). */
export type TermCounts = Map<string, number>;

const digitValues = new Map<number, number>();

/** The value of a Unicode decimal digit: its offset in its run of consecutive `Nd` code points, mod 10. */
function digitValue(codePoint: number): number {
  if (codePoint >= 48 && codePoint <= 57) {
    return codePoint - 48;
  }
  let value = digitValues.get(codePoint);
  if (value === undefined) {
    let start = codePoint;
    while (DECIMAL.test(String.fromCodePoint(start - 1))) {
      start--;
    }
    value = (codePoint - start) % 10;
    digitValues.set(codePoint, value);
  }
  return value;
}

/** Python's `int()` of a run of decimal digits (any script). */
function parseDigits(text: string): number {
  let value = 0;
  for (const char of text) {
    value = value * 10 + digitValue(char.codePointAt(0) as number);
  }
  return value;
}

function add(counts: TermCounts, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The numbers of a window, sorted ascending (the script's `sorted(int(i) for i in findall)`). */
function windowNumbers(window: string): number[] {
  return Array.from(window.matchAll(NUMBER), (match) => parseDigits(match[0])).sort((a, b) => a - b);
}

/** Options of `countTermFrequencies`. */
export interface CountOptions {
  /** Also count `"n-unit"` keys from time-unit windows. @default true */
  timeUnits?: boolean;
}

/** Adds the windows of one decoded row (a space is prepended, as in Pythia) to `counts`; returns `counts`. */
export function countTermFrequencies(
  text: string,
  counts: TermCounts = new Map(),
  options: CountOptions = {},
): TermCounts {
  const line = ` ${text}`;
  for (const match of line.matchAll(NUMBER_WINDOW)) {
    const numbers = windowNumbers(match[1] as string);
    for (const number of numbers) {
      add(counts, String(number));
    }
    for (let i = 0; i < numbers.length; i++) {
      for (let j = i + 1; j < numbers.length; j++) {
        add(counts, `${numbers[i]}-${numbers[j]}`);
      }
    }
  }
  if (options.timeUnits ?? true) {
    for (const pattern of [NUMBER_UNIT_WINDOW, UNIT_NUMBER_WINDOW]) {
      for (const match of line.matchAll(pattern)) {
        const window = match[1] as string;
        const units = Array.from(window.matchAll(UNIT_MATCH), (unit) => unit[0]);
        for (const number of windowNumbers(window)) {
          for (const unit of units) {
            add(counts, `${number}-${unit}`);
          }
        }
      }
    }
  }
  return counts;
}

/**
 * transformers' `clean_up_tokenization` (applied by `batch_decode` with the default
 * `clean_up_tokenization_spaces=True` of the transformers releases Pythia's script ran on).
 */
export function cleanUpTokenizationSpaces(text: string): string {
  return text
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** How rows are turned into text before counting. */
export interface RowTextOptions extends CountOptions {
  /** Apply `cleanUpTokenizationSpaces` after decoding. @default true */
  cleanUpSpaces?: boolean;
}

/**
 * Decodes each `width`-token row of `flat` (row-major) and adds its windows to `counts`; returns
 * `counts`.
 */
export function countRows(params: {
  flat: Int32Array;
  width: number;
  decode: (ids: ArrayLike<number>) => string;
  counts: TermCounts;
  options?: RowTextOptions;
}): TermCounts {
  const { flat, width, counts } = params;
  const cleanUp = params.options?.cleanUpSpaces ?? true;
  for (let start = 0; start < flat.length; start += width) {
    const text = params.decode(flat.subarray(start, start + width));
    countTermFrequencies(cleanUp ? cleanUpTokenizationSpaces(text) : text, counts, params.options);
  }
  return counts;
}
