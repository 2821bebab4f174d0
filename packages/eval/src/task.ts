/**
 * The shape of a task, after lm-evaluation-harness v0.3.0's `Task` class: documents in the harness's
 * form (after `_process_doc`), `doc_to_text` / `doc_to_target`, `construct_requests`, `process_results`
 * and the aggregation of each metric.
 */

/** One `rf.loglikelihood(context, continuation)` call. The target delimiter is inside `continuation`. */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

/** What the model returns for a request: Σ log p(continuation | context), and whether it is greedy. */
export interface LoglikelihoodResult {
  ll: number;
  isGreedy: boolean;
}

/** How per-document values become the reported number. */
export type Aggregation = "mean" | "perplexity";

/** Files of one split, relative to the data directory, for error messages. */
export interface SplitSource {
  files: string[];
}

/** A task definition. `Doc` is the harness's document after `_process_doc`. */
export interface Task<Doc = unknown> {
  /** The harness's task name (`lambada_openai`, `piqa`, …). */
  readonly name: string;
  /** The task `VERSION` (all 0 in v0.3.0 for these tasks, as in Pythia's result JSONs). */
  readonly version: number;
  /** The split the harness evaluates: test if the task has one, else validation. */
  readonly evalSplit: "validation" | "test";
  /** The files `loadDocs` reads, relative to the data directory. */
  readonly evalFiles: readonly string[];
  /** Whether the harness's task has training docs (then few-shot examples are sampled from them). */
  readonly hasTrainingDocs: boolean;
  /** The files `loadTrainingDocs` reads, relative to the data directory (optional local copies). */
  readonly trainFiles: readonly string[];
  /** Metrics and their aggregation, in the order the harness reports them. */
  readonly aggregations: Readonly<Record<string, Aggregation>>;
  /** Evaluation docs in file order (before the harness's seeded shuffle). */
  loadDocs(dataDir: string): Doc[];
  /** Training docs in file order, or null when the local data has no training split. */
  loadTrainingDocs(dataDir: string): Doc[] | null;
  docToText(doc: Doc): string;
  docToTarget(doc: Doc): string;
  constructRequests(doc: Doc, context: string): LoglikelihoodRequest[];
  processResults(doc: Doc, results: readonly LoglikelihoodResult[]): Record<string, number>;
}
