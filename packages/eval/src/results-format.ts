/**
 * The harness's result JSON (`{"results": {task: {metric: value, metric_stderr: value}}, "versions":
 * {task: version}, "config": {...}}`, as in Pythia's `evals/` folder), its printed table, and deltas
 * against another results file.
 */
import { readFileSync } from "node:fs";
import { EvalError } from "./eval-errors.js";

/** A harness results file. */
export interface HarnessResults {
  results: Record<string, Record<string, number>>;
  versions: Record<string, number | string>;
  config: {
    model: string;
    model_args: string;
    num_fewshot: number;
    batch_size: number | string | null;
    device: string | null;
    no_cache: boolean;
    limit: number | null;
    bootstrap_iters: number;
    description_dict: Record<string, string>;
    [extra: string]: unknown;
  };
}

/**
 * Reads a results JSON (ours or the harness's).
 * @throws EvalError (`RESULTS_FORMAT`) naming the file when it is not `{results: {...}, ...}`.
 */
export function readResultsFile(path: string): HarnessResults {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new EvalError("RESULTS_FORMAT", `${path}: cannot read it as JSON (${reason})`);
  }
  const results = (value as { results?: unknown } | null)?.results;
  if (typeof results !== "object" || results === null) {
    throw new EvalError(
      "RESULTS_FORMAT",
      `${path}: not a harness results file (expected {"results": {task: {metric: value}}, "versions", "config"})`,
    );
  }
  return value as HarnessResults;
}

const fixed = (value: number | undefined) => (value === undefined ? "" : value.toFixed(4));

/**
 * The harness's markdown table (`| Task |Version| Metric |Value | |Stderr|`); with `compare`, two
 * more columns: the other file's value and the difference (ours − theirs).
 */
export function formatResultsTable(results: HarnessResults, compare?: HarnessResults): string {
  const header = ["Task", "Version", "Metric", "Value", "", "Stderr"];
  if (compare !== undefined) {
    header.push("Compare", "Δ");
  }
  const rows: string[][] = [];
  for (const [task, metrics] of Object.entries(results.results)) {
    let first = true;
    for (const [metric, value] of Object.entries(metrics)) {
      if (metric.endsWith("_stderr")) {
        continue;
      }
      const stderr = metrics[`${metric}_stderr`];
      const row = [
        first ? task : "",
        first ? String(results.versions[task] ?? "") : "",
        metric,
        fixed(value),
        stderr === undefined ? "" : "±",
        fixed(stderr),
      ];
      if (compare !== undefined) {
        const other = compare.results[task]?.[metric];
        row.push(
          fixed(other),
          other === undefined ? "" : `${value - other >= 0 ? "+" : ""}${(value - other).toFixed(4)}`,
        );
      }
      rows.push(row);
      first = false;
    }
  }
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    `|${cells.map((cell, i) => (i >= 3 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join("|")}|`;
  const rule = `|${widths.map((width, i) => (i >= 3 ? `${"-".repeat(width - 1)}:` : "-".repeat(width))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** One metric of one task in two results files. */
export interface MetricDelta {
  task: string;
  metric: string;
  ours: number;
  theirs: number | null;
  /** ours − theirs (null when the other file lacks the metric). */
  delta: number | null;
}

/** Per-metric deltas of `ours` against `theirs` (metrics of `ours`, stderr entries excluded). */
export function compareResults(ours: HarnessResults, theirs: HarnessResults): MetricDelta[] {
  const out: MetricDelta[] = [];
  for (const [task, metrics] of Object.entries(ours.results)) {
    for (const [metric, value] of Object.entries(metrics)) {
      if (metric.endsWith("_stderr")) {
        continue;
      }
      const other = theirs.results[task]?.[metric];
      out.push({
        task,
        metric,
        ours: value,
        theirs: other ?? null,
        delta: other === undefined ? null : value - other,
      });
    }
  }
  return out;
}
