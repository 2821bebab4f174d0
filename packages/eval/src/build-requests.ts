/**
 * The harness's request construction (v0.3.0 `evaluator.evaluate` + `Task.fewshot_context`): docs of
 * the evaluation split in file order, shuffled with `random.Random(42)`; the first `limit` docs; for
 * k-shot, the same generator samples the examples (`rnd.sample(train, k)`, or `rnd.sample(eval, k + 1)`
 * minus the current doc when the task has no training split); examples are joined with "\n\n".
 */
import { EvalError } from "./eval-errors.js";
import { PythonRandom } from "@pythia/core";
import type { LoglikelihoodRequest, Task } from "./task.js";
import { getTask } from "./task-registry.js";

/** One evaluated document and its requests. */
export interface DocRequests<Doc = unknown> {
  /** Position in harness order (after the seeded shuffle). */
  docId: number;
  /** 0-based row of the evaluation split in file order. */
  sourceIndex: number;
  doc: Doc;
  requests: LoglikelihoodRequest[];
}

/** Parameters of `buildTaskRequests`. */
export interface BuildTaskRequestsParams {
  /** A task or its name. */
  task: Task | string;
  /** Folder with the task files in their original formats (e.g. `../shared/data/eval`). */
  dataDir: string;
  /** Few-shot examples per context. @default 0 */
  numFewshot?: number;
  /** Evaluate only the first `limit` docs in harness order. @default null (all) */
  limit?: number | null;
  /** The seed of the shuffle and of the few-shot draws. @default 42 (the harness's) */
  seed?: number;
}

/** The docs and requests of one task, in harness order. */
export interface TaskRequests<Doc = unknown> {
  task: Task<Doc>;
  docs: DocRequests<Doc>[];
  /** Total docs in the split (before `limit`). */
  splitSize: number;
}

/**
 * Loads a task's evaluation split and builds every request the harness would issue.
 * @throws EvalError (`FEWSHOT`) for k > 0 when the task samples from a training split that the data
 * directory lacks; (`DATA_MISSING`, `DATA_FORMAT`) for missing or malformed files.
 */
export function buildTaskRequests(params: BuildTaskRequestsParams): TaskRequests {
  const task = typeof params.task === "string" ? getTask(params.task) : params.task;
  const numFewshot = params.numFewshot ?? 0;
  if (!Number.isInteger(numFewshot) || numFewshot < 0) {
    throw new EvalError("FEWSHOT", `numFewshot must be a non-negative integer, got ${numFewshot}`);
  }
  const docs = task.loadDocs(params.dataDir);
  const order = docs.map((_, i) => i);
  const rnd = new PythonRandom(params.seed ?? 42);
  rnd.shuffle(order);
  const limit = params.limit ?? null;
  const chosen = limit === null ? order : order.slice(0, limit);

  let trainingDocs: unknown[] | null = null;
  let fewshotPool: unknown[] | null = null;
  if (numFewshot > 0) {
    if (task.hasTrainingDocs) {
      trainingDocs = task.loadTrainingDocs(params.dataDir);
      if (trainingDocs === null) {
        throw new EvalError(
          "FEWSHOT",
          `${task.name}: ${numFewshot}-shot contexts sample the training split (as the harness does), but ${task.trainFiles.join(", ")} ${task.trainFiles.length > 1 ? "are" : "is"} not in ${params.dataDir}; add the training split in its original format or use --num-fewshot 0`,
        );
      }
    } else {
      fewshotPool = docs;
    }
  }

  const out: DocRequests[] = chosen.map((sourceIndex, docId) => {
    const doc = docs[sourceIndex];
    let labeled = "";
    if (numFewshot > 0) {
      let examples: unknown[];
      if (trainingDocs !== null) {
        examples = rnd.sample(trainingDocs, numFewshot);
      } else {
        const pool = fewshotPool as unknown[];
        const key = JSON.stringify(doc);
        examples = rnd
          .sample(pool, numFewshot + 1)
          .filter((example) => JSON.stringify(example) !== key)
          .slice(0, numFewshot);
      }
      labeled = `${examples.map((example) => task.docToText(example) + task.docToTarget(example)).join("\n\n")}\n\n`;
    }
    const context = labeled + task.docToText(doc);
    return { docId, sourceIndex, doc, requests: task.constructRequests(doc, context) };
  });
  return { task, docs: out, splitSize: docs.length };
}
