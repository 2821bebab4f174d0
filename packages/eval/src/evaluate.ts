/**
 * Evaluates tasks the way lm-evaluation-harness v0.3.0's `evaluator.evaluate` does and returns its
 * result JSON (`results`, `versions`, `config`).
 */
import type { Tokenizer } from "@pythia/tokenizer";
import { buildTaskRequests, type DocRequests } from "./build-requests.js";
import { bootstrapStderr, mean, meanStderr, perplexity } from "./metrics.js";
import type { HarnessResults } from "./results-format.js";
import type { ScoreCache } from "./score-cache.js";
import { scoreRequests, type ScoreProgressEvent } from "./score-requests.js";
import { getTask } from "./task-registry.js";
import type { LoglikelihoodModel } from "./tfjs-loglikelihood-model.js";

/** Events of `evaluate`. */
export type EvaluateEvent =
  | { type: "task-start"; task: string; docs: number; requests: number }
  | (ScoreProgressEvent & { task: string })
  | { type: "task-end"; task: string; metrics: Record<string, number>; seconds: number };

/** Parameters of `evaluate`. */
export interface EvaluateParams {
  model: LoglikelihoodModel;
  tokenizer: Pick<Tokenizer, "encode">;
  /** Harness task names (`lambada_openai`, `piqa`, …). */
  tasks: readonly string[];
  /** Folder with the task files in their original formats. */
  dataDir: string;
  /** @default 0 */
  numFewshot?: number;
  /** Only the first `limit` docs of each task, in harness order. @default null */
  limit?: number | null;
  /** @default 16 */
  batchSize?: number;
  /** Resampling iterations for bootstrapped standard errors (LAMBADA ppl). @default 100_000 */
  bootstrapIters?: number;
  cache?: ScoreCache;
  /** Goes into `config.model_args`, e.g. `checkpoint=out/step1000`. @default "" */
  modelArgs?: string;
  /** Goes into `config.device`. @default "cpu" */
  device?: string;
  onEvent?: (event: EvaluateEvent) => void;
  /** Receives each task's per-document values (for inspection and tests). */
  onDocs?: (task: string, docs: Array<DocRequests & { metrics: Record<string, number> }>) => void;
  signal?: AbortSignal;
}

/** Runs the tasks and aggregates their metrics with standard errors. */
export async function evaluate(params: EvaluateParams): Promise<HarnessResults> {
  const bootstrapIters = params.bootstrapIters ?? 100_000;
  const results: HarnessResults["results"] = {};
  const versions: HarnessResults["versions"] = {};
  for (const name of params.tasks) {
    const started = performance.now();
    const task = getTask(name);
    const built = buildTaskRequests({
      task,
      dataDir: params.dataDir,
      numFewshot: params.numFewshot ?? 0,
      limit: params.limit ?? null,
    });
    const requests = built.docs.flatMap((doc) => doc.requests);
    params.onEvent?.({ type: "task-start", task: name, docs: built.docs.length, requests: requests.length });
    const scored = await scoreRequests({
      model: params.model,
      tokenizer: params.tokenizer,
      requests,
      batchSize: params.batchSize ?? 16,
      ...(params.cache === undefined ? {} : { cache: params.cache }),
      ...(params.signal === undefined ? {} : { signal: params.signal }),
      onProgress: (event) => params.onEvent?.({ ...event, task: name }),
    });
    let offset = 0;
    const perDoc = built.docs.map((doc) => {
      const own = scored.slice(offset, offset + doc.requests.length);
      offset += doc.requests.length;
      return { ...doc, metrics: task.processResults(doc.doc, own) };
    });
    params.onDocs?.(name, perDoc);
    const metrics: Record<string, number> = {};
    for (const [metric, aggregation] of Object.entries(task.aggregations)) {
      const values = perDoc.map((doc) => doc.metrics[metric] as number);
      if (aggregation === "perplexity") {
        metrics[metric] = perplexity(values);
        metrics[`${metric}_stderr`] = bootstrapStderr({
          metric: perplexity,
          values,
          iterations: bootstrapIters,
        });
      } else {
        metrics[metric] = mean(values);
        metrics[`${metric}_stderr`] = meanStderr(values);
      }
    }
    results[name] = metrics;
    versions[name] = task.version;
    params.onEvent?.({
      type: "task-end",
      task: name,
      metrics,
      seconds: (performance.now() - started) / 1000,
    });
  }
  return {
    results,
    versions,
    config: {
      model: "pythia-ts",
      model_args: params.modelArgs ?? "",
      num_fewshot: params.numFewshot ?? 0,
      batch_size: params.batchSize ?? 16,
      device: params.device ?? "cpu",
      no_cache: params.cache === undefined,
      limit: params.limit ?? null,
      bootstrap_iters: bootstrapIters,
      description_dict: {},
    },
  };
}
