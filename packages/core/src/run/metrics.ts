import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../files.js";
import { RunError } from "./run-errors.js";

/** File name of a run's metrics log: one JSON record per line. */
export const METRICS_JSONL = "metrics.jsonl";

/** One line of `metrics.jsonl`. */
export const MetricsRecordSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("train"),
    step: z.number().int().positive(),
    loss: z.number(),
    lr: z.number(),
    gradNorm: z.number(),
    tokensPerSecond: z.number(),
  }),
  z.object({
    type: z.literal("eval"),
    step: z.number().int().positive(),
    loss: z.number(),
    perplexity: z.number(),
  }),
]);

/** One line of `metrics.jsonl`: a training step or a validation. */
export type MetricsRecord = z.infer<typeof MetricsRecordSchema>;

/** Something `readMetrics` skipped instead of failing on. */
export interface MetricsWarning {
  type: "metrics-line-skipped";
  file: string;
  /** 1-based line number. */
  line: number;
  /** Why: the last line was cut short (a crash mid-write). */
  reason: string;
}

/** Parameters of `readMetrics`. */
export interface ReadMetricsParams {
  /** The run directory. */
  dir: string;
  /** Receives a warning for a torn last line, which is skipped. */
  onWarning?: (warning: MetricsWarning) => void;
}

/**
 * The records of `<dir>/metrics.jsonl`, oldest first (none when the file is absent). A last line
 * without its newline that does not parse (a crash mid-append) is skipped with a warning.
 * @throws RunError (`METRICS`) naming the file and line when any other line is not a record.
 */
export function readMetrics(params: ReadMetricsParams): MetricsRecord[] {
  const file = join(params.dir, METRICS_JSONL);
  if (!existsSync(file)) {
    return [];
  }
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const records: MetricsRecord[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line.trim().length === 0) {
      continue;
    }
    const torn = index === lines.length - 1; // no newline after it
    let parsed: ReturnType<typeof MetricsRecordSchema.safeParse> | null = null;
    try {
      parsed = MetricsRecordSchema.safeParse(JSON.parse(line));
    } catch {
      parsed = null;
    }
    if (parsed?.success) {
      records.push(parsed.data);
      continue;
    }
    if (torn) {
      params.onWarning?.({
        type: "metrics-line-skipped",
        file,
        line: index + 1,
        reason: "the last line is cut short (the run stopped while writing it)",
      });
      continue;
    }
    throw new RunError(
      "METRICS",
      `${file}:${index + 1}: not a metrics record (${parsed === null ? "not JSON" : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}); remove the line`,
    );
  }
  return records;
}

/** Appends one record to `<dir>/metrics.jsonl`. */
export function appendMetrics(dir: string, record: MetricsRecord): void {
  appendFileSync(join(dir, METRICS_JSONL), `${JSON.stringify(record)}\n`);
}

/** Starts an empty `<dir>/metrics.jsonl`. */
export function resetMetrics(dir: string): void {
  writeFileSync(join(dir, METRICS_JSONL), "");
}

/**
 * Keeps the records up to and including `step` (on resume: later ones will be logged again),
 * rewriting the file atomically; a torn last line is dropped (repaired), and reported to `onWarning`
 * and in the returned list, so the writer that resumes never appends after a torn line.
 */
export function truncateMetrics(params: ReadMetricsParams & { step: number }): MetricsWarning[] {
  if (!existsSync(join(params.dir, METRICS_JSONL))) {
    return [];
  }
  const warnings: MetricsWarning[] = [];
  const kept = readMetrics({
    dir: params.dir,
    onWarning: (warning) => {
      warnings.push(warning);
      params.onWarning?.(warning);
    },
  }).filter((record) => record.step <= params.step);
  writeFileAtomic(
    join(params.dir, METRICS_JSONL),
    kept.map((record) => `${JSON.stringify(record)}\n`).join(""),
  );
  return warnings;
}
