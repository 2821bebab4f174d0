import { join } from "node:path";
import { loadCheckpoint } from "@pythia/model";
import { AnalysisError } from "./analysis-errors.js";
import { memorizationIter, modelGreedyContinuation, type MemorizationEvent } from "./memorization.js";
import type { CheckpointSeries } from "./training-run.js";

/** Parameters of `memorizeCheckpointsIter`. */
export interface MemorizeCheckpointsParams {
  run: CheckpointSeries;
  /** @default every complete checkpoint after step 0 */
  steps?: readonly number[];
  /** @default 0 */
  start?: number;
  /** Sequences at most per checkpoint (each checkpoint scores only the rows it has seen). @default all seen */
  count?: number;
  /** Scores files `memorization-step{N}.scores` go here (resumable). */
  outDir: string;
  promptLength?: number;
  continuationLength?: number;
  batchSize?: number;
  signal?: AbortSignal;
}

/** One checkpoint's memorization summary. */
export interface CheckpointMemorization {
  step: number;
  start: number;
  count: number;
  memorizedCount: number;
  meanScore: number;
  scoresFile: string;
}

/** Events: per batch, and per finished checkpoint. */
export type MemorizeCheckpointsEvent =
  (MemorizationEvent & { step: number }) | ({ type: "checkpoint-scored" } & CheckpointMemorization);

/** Memorization of each checkpoint over the training rows it has seen. */
export async function* memorizeCheckpointsIter(
  params: MemorizeCheckpointsParams,
): AsyncGenerator<MemorizeCheckpointsEvent, CheckpointMemorization[]> {
  const { run } = params;
  const steps = params.steps ?? run.checkpointSteps.filter((step) => step > 0);
  const start = params.start ?? 0;
  const k = params.promptLength ?? 32;
  const l = params.continuationLength ?? 32;
  if (run.rowLength < k + l) {
    throw new AnalysisError(
      "INPUT",
      `${run.dir}: rows hold ${run.rowLength} tokens, fewer than k + ℓ = ${k + l}; lower --prompt-length/--continuation-length`,
    );
  }
  const results: CheckpointMemorization[] = [];
  for (const step of steps) {
    if (!run.checkpointSteps.includes(step)) {
      throw new AnalysisError(
        "RUN",
        `${run.dir}: no complete checkpoint step${step} (have ${run.checkpointSteps.join(", ")})`,
      );
    }
    const seen = Math.max(0, run.seenAt(step) - start);
    const count = Math.min(seen, params.count ?? seen);
    const model = await loadCheckpoint({ dir: run.checkpointDir(step), trainable: false });
    const scoresFile = join(params.outDir, `memorization-step${step}.scores`);
    try {
      const iterator = memorizationIter({
        rows: run.rows,
        start,
        count,
        continuation: modelGreedyContinuation(model, { eosTokenId: model.config.eosTokenId }),
        promptLength: k,
        continuationLength: l,
        batchSize: params.batchSize,
        scoresFile,
        signal: params.signal,
      });
      for (;;) {
        const next = await iterator.next();
        if (next.done) {
          const summary = {
            step,
            start,
            count,
            memorizedCount: next.value.memorizedCount,
            meanScore: next.value.meanScore,
            scoresFile,
          };
          results.push(summary);
          yield { type: "checkpoint-scored", ...summary };
          break;
        }
        yield { ...next.value, step };
      }
    } finally {
      model.dispose();
    }
  }
  return results;
}
