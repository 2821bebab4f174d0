/**
 * Term frequencies as of each checkpoint, the way Pythia's `case-studies/term_frequency` computes
 * them: the training rows between consecutive checkpoints are decoded and counted (windows in
 * `term-frequency-count.ts`), and the per-chunk counts are accumulated. Counting runs on this thread
 * or on worker threads; with `cacheDir`, each checkpoint's cumulative counts are written as they are
 * done and a rerun resumes after the newest one.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { drain, startWorkerPool, writeFileAtomic, type WorkerPool } from "@pythia/core";
import { loadPileTokenizer } from "@pythia/tokenizer/node";
import { AnalysisError } from "./analysis-errors.js";
import { countRows, type RowTextOptions, type TermCounts } from "./term-frequency-count.js";
import type { CountRequest, CountResponse } from "./term-frequency-worker.js";

export {
  cleanUpTokenizationSpaces,
  countTermFrequencies,
  NUMBER_WINDOW,
  NUMBER_UNIT_WINDOW,
  TIME_UNITS,
  UNIT_NUMBER_WINDOW,
  type CountOptions,
  type RowTextOptions,
  type TermCounts,
} from "./term-frequency-count.js";

/** Adds `from` into `into` (only `keys`, when given). */
export function mergeCounts(into: TermCounts, from: TermCounts, keys?: ReadonlySet<string>): TermCounts {
  for (const [key, value] of from) {
    if (keys === undefined || keys.has(key)) {
      into.set(key, (into.get(key) ?? 0) + value);
    }
  }
  return into;
}

/** Parameters of `termFrequencyIter`. */
export interface TermFrequencyParams {
  /** Training rows in training order (e.g. `TrainingRun.rows`). */
  rows: (start: number, count: number) => Int32Array[];
  /** Checkpoint steps, ascending; chunk i covers rows `[steps[i−1]·B, steps[i]·B)`. */
  checkpointSteps: readonly number[];
  /** Rows per optimizer step (B). */
  batchSize: number;
  /** Token ids → text for counting on this thread. @default the Pile tokenizer's decode */
  decode?: (ids: ArrayLike<number>) => string;
  /** Worker threads that decode and count (0: count on this thread). @default 0 */
  workers?: number;
  /** The `tokenizer.json` workers decode with. @default the Pile tokenizer of @pythia/tokenizer */
  tokenizerFile?: string;
  /**
   * Keep only these keys (e.g. the operands "0"…"99"); all keys when absent. Over the whole Pile, all
   * pairs are tens of millions of keys, more than a JS Map holds: pass the keys you need.
   */
  keys?: ReadonlySet<string>;
  /** What the rows are (e.g. the run directory and data prefix); recorded in the cache and checked on resume. */
  source?: string;
  /** Time-unit windows and transformers' space clean-up (both on by default, as in Pythia). */
  options?: RowTextOptions;
  /** Rows per read (and per worker request). @default 256 */
  rowsPerRead?: number;
  /** Directory of per-checkpoint cumulative counts (`counts-step{N}.json`); reruns resume from it. */
  cacheDir?: string;
  signal?: AbortSignal;
}

/** Progress of a term-frequency pass. */
export type TermFrequencyEvent =
  | { type: "rows-counted"; rows: number; totalRows: number }
  | { type: "chunk-counted"; step: number; rows: number; keys: number; cached: boolean };

/** Cumulative counts as of each checkpoint. */
export interface TermFrequencyResult {
  checkpoints: Array<{ step: number; rows: number; counts: Record<string, number> }>;
}

/** The on-disk format of one checkpoint's cumulative counts. */
interface CountsFileFormat {
  format: "pythia-term-frequency/2";
  step: number;
  rows: number;
  /** What `cache` must match to be reused. */
  settings: CountSettings;
  counts: Record<string, number>;
}

/** The settings a cached count depends on. */
interface CountSettings {
  batch_size: number;
  source: string | null;
  keys: string[] | null;
  time_units: boolean;
  clean_up_spaces: boolean;
}

/** Counts chunk by chunk, yielding progress and after each checkpoint's chunk. */
export async function* termFrequencyIter(
  params: TermFrequencyParams,
): AsyncGenerator<TermFrequencyEvent, TermFrequencyResult> {
  const steps = [...params.checkpointSteps];
  if (
    steps.some(
      (step, i) => !Number.isInteger(step) || step < 0 || (i > 0 && step <= (steps[i - 1] as number)),
    )
  ) {
    throw new AnalysisError(
      "INPUT",
      `termFrequency: checkpoint steps must be ascending non-negative integers, got ${steps.join(", ")}`,
    );
  }
  const workers = params.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new AnalysisError("INPUT", `termFrequency: workers must be a non-negative integer, got ${workers}`);
  }
  if (workers > 0 && params.decode !== undefined) {
    throw new AnalysisError(
      "INPUT",
      "termFrequency: workers decode with tokenizerFile; pass tokenizerFile instead of decode, or workers: 0",
    );
  }
  const keys = params.keys === undefined ? undefined : new Set(params.keys);
  const settings: CountSettings = {
    batch_size: params.batchSize,
    source: params.source ?? null,
    keys: keys === undefined ? null : [...keys].sort(),
    time_units: params.options?.timeUnits ?? true,
    clean_up_spaces: params.options?.cleanUpSpaces ?? true,
  };
  const perRead = params.rowsPerRead ?? 256;
  const totalRows = (steps.at(-1) ?? 0) * params.batchSize;
  const checkpoints: TermFrequencyResult["checkpoints"] = [];
  const sortedRecord = (total: TermCounts): Record<string, number> =>
    Object.fromEntries([...total].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

  // Resume: the checkpoints whose cumulative counts are cached, from the first one on.
  let total: TermCounts = new Map();
  let done = 0;
  if (params.cacheDir !== undefined) {
    mkdirSync(params.cacheDir, { recursive: true });
    for (const step of steps) {
      const cached = readCountsFile(params.cacheDir, step, settings);
      if (cached === null) {
        break;
      }
      total = cached;
      checkpoints.push({ step, rows: step * params.batchSize, counts: sortedRecord(total) });
      done++;
      yield { type: "chunk-counted", step, rows: step * params.batchSize, keys: total.size, cached: true };
    }
  }
  if (done === steps.length) {
    return { checkpoints };
  }

  const counter = await startCounter(params, workers, keys);
  try {
    let row = done === 0 ? 0 : (steps[done - 1] as number) * params.batchSize;
    for (const step of steps.slice(done)) {
      const end = step * params.batchSize;
      const inFlight = new Map<number, Promise<{ id: number; counts: TermCounts; rows: number }>>();
      let id = 0;
      const settle = async () => {
        const finished = await Promise.race(inFlight.values());
        inFlight.delete(finished.id);
        mergeCounts(total, finished.counts, keys);
        return finished.rows;
      };
      let counted = row;
      while (row < end || inFlight.size > 0) {
        if (row < end && inFlight.size < counter.parallelism * 2) {
          params.signal?.throwIfAborted();
          const n = Math.min(perRead, end - row);
          const rows = params.rows(row, n);
          if (rows.length !== n) {
            throw new AnalysisError(
              "INPUT",
              `termFrequency: rows(${row}, ${n}) returned ${rows.length} rows`,
            );
          }
          const flat = flatten(rows);
          const requestId = id++;
          const pending = counter
            .count(flat, flat.length / n)
            .then((counts) => ({ id: requestId, counts, rows: n }));
          pending.catch(() => {}); // observed by settle(); avoids an unhandled rejection meanwhile
          inFlight.set(requestId, pending);
          row += n;
          continue;
        }
        counted += await settle();
        yield { type: "rows-counted", rows: counted, totalRows };
      }
      const counts = sortedRecord(total);
      checkpoints.push({ step, rows: end, counts });
      if (params.cacheDir !== undefined) {
        const file: CountsFileFormat = {
          format: "pythia-term-frequency/2",
          step,
          rows: end,
          settings,
          counts: Object.fromEntries(total),
        };
        writeFileAtomic(countsPath(params.cacheDir, step), `${JSON.stringify(file)}\n`);
      }
      yield { type: "chunk-counted", step, rows: end, keys: total.size, cached: false };
    }
  } finally {
    await counter.close();
  }
  return { checkpoints };
}

/** Drains `termFrequencyIter`. */
export async function termFrequency(
  params: TermFrequencyParams & { onEvent?: (event: TermFrequencyEvent) => void },
): Promise<TermFrequencyResult> {
  return drain(termFrequencyIter(params), params.onEvent);
}

function flatten(rows: Int32Array[]): Int32Array {
  const width = rows[0]?.length ?? 0;
  const flat = new Int32Array(rows.length * width);
  for (const [i, row] of rows.entries()) {
    if (row.length !== width) {
      throw new AnalysisError(
        "INPUT",
        `termFrequency: rows must have one length, got ${width} and ${row.length}`,
      );
    }
    flat.set(row, i * width);
  }
  return flat;
}

interface Counter {
  parallelism: number;
  count(flat: Int32Array, width: number): Promise<TermCounts>;
  close(): Promise<void>;
}

/** Counting on this thread, or on a pool of workers. */
async function startCounter(
  params: TermFrequencyParams,
  workers: number,
  keys: ReadonlySet<string> | undefined,
): Promise<Counter> {
  if (workers === 0) {
    const decode = params.decode ?? (await pileDecode());
    return {
      parallelism: 1,
      count: async (flat, width) =>
        countRows({ flat, width, decode, counts: new Map(), options: params.options }),
      close: async () => {},
    };
  }
  const pool: WorkerPool<CountRequest, CountResponse> = await startWorkerPool({
    url: workerUrl(),
    size: workers,
    name: "term-frequency",
    workerData: {
      tokenizerFile: params.tokenizerFile ?? null,
      options: params.options ?? {},
      keys: keys === undefined ? null : [...keys],
    },
  });
  return {
    parallelism: workers,
    count: async (flat, width) => {
      const { keys, values } = await pool.run({ flat, width }, [flat.buffer as ArrayBuffer]);
      return new Map(keys.map((key, i) => [key, values[i] as number]));
    },
    close: () => pool.close(),
  };
}

async function pileDecode(): Promise<(ids: ArrayLike<number>) => string> {
  const tokenizer = await loadPileTokenizer();
  return (ids) => tokenizer.decode(ids);
}

/** The built worker script (tests running from the sources use the build in `dist/`). */
function workerUrl(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("../dist/term-frequency-worker.js", import.meta.url)
    : new URL("./term-frequency-worker.js", import.meta.url);
}

function countsPath(dir: string, step: number): string {
  return join(dir, `counts-step${step}.json`);
}

/** A cached checkpoint's cumulative counts, or null when absent. */
function readCountsFile(dir: string, step: number, settings: CountSettings): TermCounts | null {
  const path = countsPath(dir, step);
  if (!existsSync(path)) {
    return null;
  }
  let file: CountsFileFormat;
  try {
    file = JSON.parse(readFileSync(path, "utf8")) as CountsFileFormat;
  } catch (error) {
    throw new AnalysisError(
      "DATA_FORMAT",
      `${path}: not valid JSON (${(error as Error).message}); delete it to count that checkpoint again`,
    );
  }
  if (file.format !== "pythia-term-frequency/2" || typeof file.counts !== "object" || file.counts === null) {
    throw new AnalysisError(
      "DATA_FORMAT",
      `${path}: not a term-frequency counts file of this version (format ${JSON.stringify(file.format)}); delete it or use another cache directory`,
    );
  }
  if (file.step !== step || JSON.stringify(file.settings) !== JSON.stringify(settings)) {
    const differing = Object.keys(settings).filter(
      (key) =>
        JSON.stringify(file.settings?.[key as keyof CountSettings]) !==
        JSON.stringify(settings[key as keyof CountSettings]),
    );
    throw new AnalysisError(
      "INPUT",
      `${path}: counted with other settings (${differing.map((key) => `${key} ${JSON.stringify(file.settings?.[key as keyof CountSettings])}, now ${JSON.stringify(settings[key as keyof CountSettings])}`).join("; ")}); use another cache directory`,
    );
  }
  return new Map(Object.entries(file.counts));
}
