/**
 * The training loop, top to bottom (nanoGPT's train.py shape): resume or initialise, then for each
 * step: learning rate → batch (with interventions) → micro-batch gradients → clip → AdamW → events,
 * metrics line, checkpoint on Pythia's schedule, validation. Emits events; never prints.
 */
import { mkdirSync } from "node:fs";
import { checkpointSteps, drain } from "@pythia/core";
import {
  appendMetrics,
  assertNoCheckpoints,
  checkpointDir,
  completeCheckpointSteps,
  removeTemporaryFiles,
  resetMetrics,
  truncateMetrics,
  writeRunJson,
  type RunDataFormat,
} from "@pythia/core/run";
import { computeInfo, GPTNeoXModel, parseConfig, takeWebGPUErrors } from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";
import { AdamW, clipCoefficient, clipGradients } from "./adamw.js";
import { webgpuInternals } from "./adamw-webgpu.js";
import type { BatchSource, TrainingData } from "./batch-source.js";
import { openCheckedBatchSource } from "./data-checks.js";
import { learningRateAt, type LearningRateSchedule } from "./lr-schedule.js";
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from "./train-config.js";
import { readTrainingCheckpoint, writeTrainingCheckpoint, type TrainerState } from "./training-checkpoint.js";
import { TrainingError } from "./training-errors.js";

/** Rewrites the token rows of the steps in `[fromStep, toStep)` (1-based optimizer steps) before training on them. */
export interface BatchIntervention {
  name: string;
  fromStep: number;
  toStep: number;
  /** Receives and returns row-major `[B, seqLength + 1]` ids; must keep the shape. */
  transform(batch: Int32Array, context: { step: number; seqLength: number }): Int32Array;
}

/** Parameters of `train` / `trainIter`. */
export interface TrainParams {
  config: TrainConfigInput;
  data: TrainingData;
  /** Run directory: run.json, metrics.jsonl, step{N}/ checkpoints. */
  out: string;
  /** Continue from the newest complete checkpoint in `out`. @default false */
  resume?: boolean;
  interventions?: readonly BatchIntervention[];
  /** Stops between steps (the newest checkpoint stays the resume point). */
  signal?: AbortSignal;
}

/** Events of a run (`<noun>-<verb>`). */
export type TrainEvent =
  | {
      type: "run-start";
      fromStep: number;
      steps: number;
      resumed: boolean;
      checkpointSteps: number[];
      /** What run.json records about the data. */
      data: RunDataFormat;
    }
  | {
      type: "step-end";
      step: number;
      loss: number;
      lr: number;
      gradNorm: number;
      tokensPerSecond: number;
      elapsedMs: number;
    }
  | { type: "checkpoint-written"; step: number; dir: string; bytes: number; ms: number }
  | { type: "eval-end"; step: number; loss: number; perplexity: number };

/** What a finished run returns. */
export interface TrainSummary {
  out: string;
  steps: number;
  finalLoss: number | null;
  validationLoss: number | null;
  checkpoints: string[];
}

/** Validates a training configuration, naming each bad field. */
export function parseTrainConfig(input: TrainConfigInput): TrainConfig {
  const result = TrainConfigSchema.safeParse(input);
  if (!result.success) {
    throw new TrainingError(
      "CONFIG",
      `invalid training configuration: ${result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
    );
  }
  return { ...result.data, model: parseConfig(result.data.model) };
}

/** Runs (or resumes) training, yielding events; returns the summary. */
export async function* trainIter(params: TrainParams): AsyncGenerator<TrainEvent, TrainSummary> {
  const config = parseTrainConfig(params.config);
  const out = params.out;
  if (!params.resume) {
    await assertNoCheckpoints({ dir: out });
  }
  const schedule: LearningRateSchedule = {
    maxLr: config.lr,
    minLr: config.minLr ?? 0.1 * config.lr,
    decaySteps: config.steps,
    warmupFraction: config.warmupFraction,
  };
  const saveAt = new Set(
    checkpointSteps({
      steps: config.steps,
      every: config.checkpointEvery,
      logSpacedUpTo: config.logSpacedUpTo,
    }),
  );
  // Open (and check) the data before writing anything into the run directory.
  const source: BatchSource = openCheckedBatchSource({ data: params.data, config, out });
  mkdirSync(out, { recursive: true });
  removeTemporaryFiles({ dir: out });
  const optimizer = new AdamW({
    beta1: config.beta1,
    beta2: config.beta2,
    eps: config.eps,
    weightDecay: config.weightDecay,
  });
  let model: GPTNeoXModel;
  let startStep = 0;
  const resumeFrom = params.resume ? (await completeCheckpointSteps({ dir: out })).at(-1) : undefined;
  try {
    if (resumeFrom !== undefined) {
      const restored = await readTrainingCheckpoint({
        dir: checkpointDir(out, resumeFrom),
        optimizer,
      });
      checkSameRun(restored.state.config, config, out);
      model = restored.model;
      startStep = restored.state.step;
      truncateMetrics({ dir: out, step: startStep });
    } else {
      model = GPTNeoXModel.initialize({ config: config.model, seed: config.seed });
      resetMetrics(out);
    }
  } catch (error) {
    source.close();
    optimizer.dispose();
    throw error;
  }
  const decay = new Set(model.specs.filter((spec) => spec.decay).map((spec) => spec.name));
  const written: string[] = [];
  let finalLoss: number | null = null;
  let validationLoss: number | null = null;
  try {
    writeRunJson({
      dir: out,
      config,
      data: source.describe(),
      compute: computeInfo(),
      versions: { tfjs: tf.version_core },
    });
    yield {
      type: "run-start",
      fromStep: startStep,
      steps: config.steps,
      resumed: resumeFrom !== undefined,
      checkpointSteps: [...saveAt],
      data: source.describe(),
    };
    const save = async function* (step: number, lr: number): AsyncGenerator<TrainEvent> {
      const started = performance.now();
      const state: TrainerState = {
        step,
        nextSample: step * config.batchSize,
        lr,
        config,
        seed: config.seed,
        lossScale: null,
      };
      const { dir, bytes } = await writeTrainingCheckpoint({ out, model, optimizer, state });
      written.push(dir);
      yield { type: "checkpoint-written", step, dir, bytes, ms: performance.now() - started };
    };
    if (startStep === 0 && saveAt.has(0) && resumeFrom === undefined) {
      yield* save(0, 0);
    }
    const micro = config.microBatchSize;
    const accumulation = config.batchSize / micro;
    const width = config.seqLength + 1;
    const variables = Object.values(model.params);
    for (let step = startStep; step < config.steps; step++) {
      if (params.signal?.aborted) {
        const newest = (await completeCheckpointSteps({ dir: out })).at(-1);
        throw new TrainingError(
          "ABORTED",
          `stopped before step ${step + 1} of ${config.steps}; the newest checkpoint is ${newest === undefined ? "none" : checkpointDir(out, newest)}; resume to continue`,
        );
      }
      const started = performance.now();
      // GPT-NeoX: the scheduler has taken `step` steps before this update, so the first update uses lr(0) = 0.
      const lr = learningRateAt(step, schedule);
      let batch = source.trainBatch(step);
      for (const intervention of params.interventions ?? []) {
        if (step + 1 >= intervention.fromStep && step + 1 < intervention.toStep) {
          batch = intervention.transform(batch, { step: step + 1, seqLength: config.seqLength });
        }
      }
      // On a GPU nothing is read back inside the step: the loss, the norm and the clipping coefficient
      // stay tensors until the update is queued. The host backends read the loss per micro-batch.
      const onDevice = webgpuInternals() !== null;
      let lossSum = 0;
      let lossTotal: tf.Tensor | null = null;
      let grads: Record<string, tf.Tensor> = {};
      for (let m = 0; m < accumulation; m++) {
        const ids = tf.tensor2d(
          batch.subarray(m * micro * width, (m + 1) * micro * width),
          [micro, width],
          "int32",
        );
        const { value, grads: microGrads } = tf.variableGrads(() => model.loss(ids).loss, variables);
        if (onDevice) {
          const previousTotal: tf.Tensor | null = lossTotal;
          lossTotal = previousTotal === null ? tf.clone(value) : tf.add(previousTotal, value);
          previousTotal?.dispose();
        } else {
          lossSum += (await value.data())[0] as number;
        }
        for (const [name, variable] of Object.entries(model.params)) {
          const grad = microGrads[variable.name] as tf.Tensor;
          const previous = grads[name];
          grads[name] = previous === undefined ? grad : tf.add(previous, grad);
          if (previous !== undefined) {
            tf.dispose([previous, grad]);
          }
        }
        tf.dispose([ids, value]);
      }
      if (accumulation > 1) {
        const averaged: Record<string, tf.Tensor> = {};
        for (const [name, grad] of Object.entries(grads)) {
          averaged[name] = tf.div(grad, accumulation);
          grad.dispose();
        }
        grads = averaged;
      }
      let gradNorm: number;
      if (onDevice) {
        const { norm, coef } = clipCoefficient(grads, config.gradClip);
        optimizer.apply(model.params, grads, lr, (name) => decay.has(name), coef);
        const total = lossTotal as tf.Tensor;
        [lossSum, gradNorm] = (await Promise.all([total.data(), norm.data()])).map((d) => d[0] as number) as [
          number,
          number,
        ];
        tf.dispose([total, norm, coef, ...Object.values(grads)]);
        const gpuErrors = takeWebGPUErrors();
        if (gpuErrors.length > 0) {
          throw new TrainingError(
            "GPU",
            `step ${step + 1}: the GPU rejected work (${gpuErrors.join("; ")}); the step's results are not valid. Report this with the adapter in run.json, or train with --backend wasm.`,
          );
        }
      } else {
        gradNorm = Number.NaN; // set below, once the loss is known to be finite
      }
      const loss = lossSum / accumulation;
      if (!Number.isFinite(loss)) {
        tf.dispose(Object.values(grads));
        const newest = (await completeCheckpointSteps({ dir: out })).at(-1);
        const last = written.at(-1) ?? (newest === undefined ? undefined : checkpointDir(out, newest));
        throw new TrainingError(
          "DIVERGED",
          `step ${step + 1}: the loss is ${loss}; training stopped. The last good checkpoint is ${last ?? "none"}; lower the learning rate and resume from it.`,
        );
      }
      if (!onDevice) {
        const clipped = clipGradients(grads, config.gradClip);
        optimizer.apply(model.params, clipped.grads, lr, (name) => decay.has(name));
        tf.dispose(Object.values(clipped.grads));
        gradNorm = clipped.norm;
      }
      const elapsedMs = performance.now() - started;
      const tokensPerSecond = (config.batchSize * config.seqLength) / (elapsedMs / 1000);
      finalLoss = loss;
      appendMetrics(out, {
        type: "train",
        step: step + 1,
        loss,
        lr,
        gradNorm,
        tokensPerSecond,
      });
      yield {
        type: "step-end",
        step: step + 1,
        loss,
        lr,
        gradNorm,
        tokensPerSecond,
        elapsedMs,
      };
      if (saveAt.has(step + 1)) {
        yield* save(step + 1, lr);
      }
      const last = step + 1 === config.steps;
      if (last || (config.evalEvery > 0 && (step + 1) % config.evalEvery === 0)) {
        const evaluation = await evaluate(model, source, config);
        if (evaluation !== null) {
          validationLoss = evaluation;
          appendMetrics(out, {
            type: "eval",
            step: step + 1,
            loss: evaluation,
            perplexity: Math.exp(evaluation),
          });
          yield { type: "eval-end", step: step + 1, loss: evaluation, perplexity: Math.exp(evaluation) };
        }
      }
    }
  } finally {
    source.close();
    optimizer.dispose();
    model.dispose();
  }
  return { out, steps: config.steps, finalLoss, validationLoss, checkpoints: written };
}

/** Drains `trainIter`, passing each event to `onEvent`. */
export async function train(
  params: TrainParams & { onEvent?: (event: TrainEvent) => void },
): Promise<TrainSummary> {
  return drain(trainIter(params), params.onEvent);
}

/** Mean validation loss over `evalBatches` micro-batches, or null without validation data. */
async function evaluate(
  model: GPTNeoXModel,
  source: BatchSource,
  config: TrainConfig,
): Promise<number | null> {
  let sum = 0;
  for (let i = 0; i < config.evalBatches; i++) {
    const batch = source.validationBatch(i);
    if (batch === null) {
      return null;
    }
    const ids = tf.tensor2d(batch, [config.microBatchSize, config.seqLength + 1], "int32");
    const { loss, tokenLosses } = model.loss(ids);
    sum += (await loss.data())[0] as number;
    tf.dispose([ids, loss, tokenLosses]);
  }
  return sum / config.evalBatches;
}

/** A resumed run must be the same run: same architecture, batch shape, schedule and seed. */
function checkSameRun(saved: TrainConfig, requested: TrainConfig, out: string): void {
  const differences = (Object.keys(requested) as Array<keyof TrainConfig>).filter(
    (key) => JSON.stringify(saved[key]) !== JSON.stringify(requested[key]),
  );
  if (differences.length > 0) {
    throw new TrainingError(
      "CONFIG",
      `${out}: resuming with a different configuration (${differences.join(", ")}) would not reproduce the run; use the original settings or a new output directory`,
    );
  }
}
