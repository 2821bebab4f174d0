/**
 * Pythia's term-frequency case study over a checkpoint series: operand frequencies as of each
 * checkpoint (`termFrequencyIter`), then the arithmetic tasks at every checkpoint with Razeghi's
 * performance gap between frequent and rare operands.
 */
import { drain } from "@pythia/core";
import { checkpointName } from "@pythia/core/run";
import { loadCheckpoint } from "@pythia/model";
import type { Tokenizer } from "@pythia/tokenizer";
import { AnalysisError } from "./analysis-errors.js";
import {
  ARITHMETIC_SHOTS,
  arithmeticEval,
  modelGreedyUntil,
  performanceGap,
  type ArithmeticEvalResult,
  type ArithmeticOperation,
} from "./arithmetic.js";
import { seriesSteps } from "./series-steps.js";
import { termFrequencyIter, type TermFrequencyEvent } from "./term-frequency.js";
import type { CheckpointSeries } from "./training-run.js";

/** The operations of Pythia's arithmetic tasks. */
export const ARITHMETIC_OPERATIONS: readonly ArithmeticOperation[] = ["multiplication", "addition"];

/**
 * Parses a comma-separated list of arithmetic operations.
 * @throws AnalysisError (`INPUT`) for an unknown operation.
 */
export function parseArithmeticOperations(list: string): ArithmeticOperation[] {
  return list.split(",").map((operation) => {
    if (!(ARITHMETIC_OPERATIONS as readonly string[]).includes(operation)) {
      throw new AnalysisError(
        "INPUT",
        `unknown operation "${operation}" (${ARITHMETIC_OPERATIONS.join(", ")})`,
      );
    }
    return operation as ArithmeticOperation;
  });
}

/** Parameters of `termFrequencyStudyIter`. */
export interface TermFrequencyStudyParams {
  series: CheckpointSeries;
  /** @default every checkpoint after step 0 */
  steps?: readonly number[];
  /** @default ARITHMETIC_OPERATIONS */
  operations?: readonly ArithmeticOperation[];
  /** k-shot settings. @default ARITHMETIC_SHOTS */
  shots?: readonly number[];
  /** Operands x1 (the first `limit` of 0…99) and docs per operand at most (CI-sized runs). */
  limit?: number;
  /** The Pile tokenizer, for greedy decoding. */
  tokenizer: Tokenizer;
  /** Worker threads that decode and count the rows (0: this thread). @default 0 */
  workers?: number;
  /** Count the time-unit windows (keys `n-minute`, …). @default true */
  timeUnits?: boolean;
  /** Where per-checkpoint counts are cached (a rerun resumes). */
  cacheDir?: string;
  /** What the rows are (run directory, data prefix), checked on resume. */
  source?: string;
  signal?: AbortSignal;
}

/** One checkpoint of the study: operand frequencies and every task with its performance gap. */
export interface TermFrequencyCheckpoint {
  step: number;
  frequency: Record<string, number>;
  tasks: Array<ArithmeticEvalResult & { gap: ReturnType<typeof performanceGap> }>;
}

/** What `termFrequencyStudyIter` returns. */
export interface TermFrequencyStudy {
  x1Values: number[];
  docsPerOperand: number;
  checkpoints: TermFrequencyCheckpoint[];
}

/** Progress: counting, then one event per evaluated checkpoint. */
export type TermFrequencyStudyEvent =
  TermFrequencyEvent | { type: "checkpoint-evaluated"; step: number; tasks: number };

/** Counts operand frequencies as of each checkpoint, then scores the arithmetic tasks at each one. */
export async function* termFrequencyStudyIter(
  params: TermFrequencyStudyParams,
): AsyncGenerator<TermFrequencyStudyEvent, TermFrequencyStudy> {
  const { series, limit } = params;
  const steps = seriesSteps({ series, steps: params.steps, afterInitialization: true });
  const operations = params.operations ?? ARITHMETIC_OPERATIONS;
  const shots = params.shots ?? ARITHMETIC_SHOTS;
  const x1Values = Array.from({ length: Math.min(100, limit ?? 100) }, (_, i) => i);
  const frequencies = yield* termFrequencyIter({
    rows: series.rows,
    checkpointSteps: steps,
    batchSize: series.batchSize,
    workers: params.workers ?? 0,
    keys: new Set(x1Values.map(String)),
    options: { timeUnits: params.timeUnits ?? true },
    cacheDir: params.cacheDir,
    source: params.source,
    signal: params.signal,
  });
  const checkpoints: TermFrequencyCheckpoint[] = [];
  for (const [i, step] of steps.entries()) {
    const frequency = frequencies.checkpoints[i]?.counts ?? {};
    const model = await loadCheckpoint({ dir: series.checkpointDir(step), trainable: false });
    const greedyUntil = modelGreedyUntil(model, params.tokenizer);
    const tasks: TermFrequencyCheckpoint["tasks"] = [];
    try {
      for (const operation of operations) {
        for (const shot of shots) {
          const result = await arithmeticEval({
            operation,
            shots: shot,
            greedyUntil,
            x1Values,
            limit,
            signal: params.signal,
          });
          tasks.push({ ...result, gap: performanceGap({ accuracy: result.accuracy, frequency }) });
        }
      }
    } finally {
      model.dispose();
    }
    checkpoints.push({ step, frequency, tasks });
    yield { type: "checkpoint-evaluated", step, tasks: tasks.length };
  }
  return { x1Values, docsPerOperand: Math.min(50, limit ?? 50), checkpoints };
}

/** Drains `termFrequencyStudyIter`. */
export function termFrequencyStudy(
  params: TermFrequencyStudyParams & { onEvent?: (event: TermFrequencyStudyEvent) => void },
): Promise<TermFrequencyStudy> {
  return drain(termFrequencyStudyIter(params), params.onEvent);
}

/** One line per checkpoint of accuracy against operand frequency, for `accuracyFrequencySvg`. */
export function accuracyFrequencySeries(
  study: TermFrequencyStudy,
  task: { operation: ArithmeticOperation; shots: number },
): Array<{ label: string; points: Array<{ frequency: number; accuracy: number }> }> {
  return study.checkpoints.map((checkpoint) => {
    const result = checkpoint.tasks.find(
      (candidate) => candidate.operation === task.operation && candidate.shots === task.shots,
    );
    return {
      label: checkpointName(checkpoint.step),
      points: Object.entries(result?.accuracy ?? {}).map(([x1, accuracy]) => ({
        frequency: checkpoint.frequency[x1] ?? 0,
        accuracy,
      })),
    };
  });
}
