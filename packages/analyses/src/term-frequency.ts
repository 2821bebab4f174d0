/**
 * Term frequencies as Razeghi et al. (2022) count them and Pythia's `run_freq_count.py` reproduces:
 * decode each training row, prepend a space, and find every (overlapping) window "space, a 1–5 digit
 * number, space, 1–3 whitespace-terminated tokens (lazy), a 1–5 digit number". In each window every
 * number is counted as a unigram key `"n"` and every pair of numbers, sorted numerically, as `"a-b"`.
 * Counts are taken per chunk of rows between consecutive checkpoints and accumulated, giving the
 * frequency as of each checkpoint.
 */
import { drain } from "@pythia/core";
import { AnalysisError } from "./analysis-error.js";

/**
 * The lazy window: a lookahead so that windows overlap. `(?!\d)` keeps the closing number whole
 * (1–5 digits, not the first 5 digits of a longer one).
 */
export const FREQUENCY_WINDOW = /(?=( \d{1,5} (?:\S+\s+){1,3}?\d{1,5}(?!\d)))/g;

/** Counts by key (`"12"`, `"3-12"`). */
export type TermCounts = Map<string, number>;

/** Adds the windows of one text (a space is prepended, as in Pythia) to `counts`; returns `counts`. */
export function countTermFrequencies(text: string, counts: TermCounts = new Map()): TermCounts {
  for (const match of (" " + text).matchAll(FREQUENCY_WINDOW)) {
    const numbers = (match[1] as string).match(/\d+/g) ?? [];
    for (const number of numbers) {
      const key = String(Number(number));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (let i = 0; i < numbers.length; i++) {
      for (let j = i + 1; j < numbers.length; j++) {
        const a = Number(numbers[i]);
        const b = Number(numbers[j]);
        const key = `${Math.min(a, b)}-${Math.max(a, b)}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/** Adds `from` into `into`. */
export function mergeCounts(into: TermCounts, from: TermCounts): TermCounts {
  for (const [key, value] of from) {
    into.set(key, (into.get(key) ?? 0) + value);
  }
  return into;
}

/** Parameters of `termFrequencyIter`. */
export interface TermFrequencyParams {
  /** Training rows in training order (e.g. `TrainingRun.rows`). */
  rows: (start: number, count: number) => Int32Array[];
  /** Checkpoint steps, ascending; chunk i covers rows `[steps[i−1]·B, steps[i]·B)`. */
  checkpointSteps: readonly number[];
  /** Rows per optimizer step. */
  batchSize: number;
  /** Token ids → text (the Pile tokenizer's decode). */
  decode: (ids: readonly number[]) => string;
  /** Keep only these keys in the results (all keys when absent). */
  keys?: ReadonlySet<string>;
  /** Rows decoded per read. @default 256 */
  rowsPerRead?: number;
  signal?: AbortSignal;
}

/** Progress of a term-frequency pass. */
export type TermFrequencyEvent = { type: "chunk-counted"; step: number; rows: number; keys: number };

/** Cumulative counts as of each checkpoint. */
export interface TermFrequencyResult {
  checkpoints: Array<{ step: number; rows: number; counts: Record<string, number> }>;
}

/** Counts chunk by chunk, yielding after each checkpoint's chunk. */
export async function* termFrequencyIter(
  params: TermFrequencyParams,
): AsyncGenerator<TermFrequencyEvent, TermFrequencyResult> {
  const steps = [...params.checkpointSteps];
  if (steps.some((step, i) => i > 0 && step <= (steps[i - 1] as number))) {
    throw new AnalysisError("INPUT", `termFrequency: checkpoint steps must ascend, got ${steps.join(", ")}`);
  }
  const perRead = params.rowsPerRead ?? 256;
  const total: TermCounts = new Map();
  const checkpoints: TermFrequencyResult["checkpoints"] = [];
  let row = 0;
  for (const step of steps) {
    const end = step * params.batchSize;
    while (row < end) {
      params.signal?.throwIfAborted();
      const n = Math.min(perRead, end - row);
      for (const ids of params.rows(row, n)) {
        countTermFrequencies(params.decode(Array.from(ids)), total);
      }
      row += n;
    }
    const counts: Record<string, number> = {};
    for (const [key, value] of [...total].sort(([a], [b]) => a.localeCompare(b))) {
      if (params.keys === undefined || params.keys.has(key)) {
        counts[key] = value;
      }
    }
    checkpoints.push({ step, rows: end, counts });
    yield { type: "chunk-counted", step, rows: end, keys: total.size };
  }
  return { checkpoints };
}

/** Drains `termFrequencyIter`. */
export async function termFrequency(
  params: TermFrequencyParams & { onEvent?: (event: TermFrequencyEvent) => void },
): Promise<TermFrequencyResult> {
  return drain(termFrequencyIter(params), params.onEvent);
}
