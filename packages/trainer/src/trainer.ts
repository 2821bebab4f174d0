/**
 * The training loop, top to bottom (nanoGPT's train.py shape): resume or initialise, then for each
 * step: learning rate → batch (with interventions) → micro-batch gradients → clip → AdamW → events,
 * metrics line, checkpoint on Pythia's schedule, validation. Emits events; never prints.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { checkpointSteps, drain } from "@pythia/core";
import {
  acquireRunLock,
  appendMetrics,
  assertNoCheckpoints,
  checkpointDir,
  checkpointName,
  compareDataIdentity,
  completeCheckpointSteps,
  findResumeCheckpoint,
  parseCheckpointName,
  readMetrics,
  readRunJsonIfExists,
  removeTemporaryFiles,
  resetMetrics,
  RUN_JSON,
  setAsideCheckpoint,
  truncateMetrics,
  writeRunJson,
  type DataIdentityChange,
  type DataIdentityFormat,
  type ManifestFailure,
  type RejectedCheckpoint,
  type RunDataFormat,
  type RunLock,
} from "@pythia/core/run";
import { computeInfo, GPTNeoXModel, parseConfig, takeWebGPUErrors } from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";
import { AdamW, clipCoefficient, clipGradients } from "./adamw.js";
import { webgpuInternals } from "./adamw-webgpu.js";
import { indexMapCacheFiles, type BatchSource, type TrainingData } from "./batch-source.js";
import { checkTrainingData, openBatchSourceLeavingNothing } from "./data-checks.js";
import { learningRateAt, type LearningRateSchedule } from "./lr-schedule.js";
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from "./train-config.js";
import { readTrainingCheckpoint, writeTrainingCheckpoint, type TrainerState } from "./training-checkpoint.js";
import {
  dataChangedError,
  describedOrder,
  trainingDataIdentity,
  type DataSource,
} from "./training-data-identity.js";
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
  /**
   * Continue from the newest checkpoint in `out` that matches its manifest's sha256 (newer damaged ones
   * are renamed `step{N}.corrupt`, with a `checkpoint-rejected` event). Refuses data other than
   * `run.json`'s `dataIdentity` records. @default false
   */
  resume?: boolean;
  /**
   * With `resume`: continue on data other than `run.json` records; the change is recorded in its
   * `dataChanges`. @default false
   */
  allowDataChange?: boolean;
  /** What the data was tokenized from, when the caller tokenized it (recorded in `run.json`). */
  dataSource?: DataSource;
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
  | { type: "eval-end"; step: number; loss: number; perplexity: number }
  /** Resume: a newer checkpoint failed verification and was renamed `movedTo`; training continues from `resumeFrom`. */
  | {
      type: "checkpoint-rejected";
      step: number;
      dir: string;
      failures: ManifestFailure[];
      movedTo: string;
      resumeFrom: number;
    }
  /** Resume: a torn last line of `metrics.jsonl` (the run stopped while writing it) was removed. */
  | { type: "metrics-repaired"; file: string; line: number; reason: string }
  /** Resume: `run.json` recorded no data identity (an older run); the current data's was recorded. */
  | { type: "data-identity-recorded"; runJson: string; identity: DataIdentityFormat }
  /** Resume with `allowDataChange`: the data differs from what the run trained on until `step`. */
  | { type: "data-changed"; step: number; changes: DataIdentityChange[] }
  /** Resume: checkpoint `step` had no validation record (the run stopped before it); it runs now. */
  | { type: "validation-missing"; step: number };

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

/**
 * Runs (or resumes) training, yielding events; returns the summary. Holds `<out>/run.lock` while it
 * runs, so a second process on the same run fails fast (`RunError` `RUN_LOCKED`).
 */
export async function* trainIter(params: TrainParams): AsyncGenerator<TrainEvent, TrainSummary> {
  // A run directory that does not exist yet is locked once it is created (a failed start leaves none).
  const held: { lock: RunLock | null } = {
    lock: existsSync(params.out) ? acquireRunLock({ dir: params.out }) : null,
  };
  try {
    return yield* trainLocked(params, held);
  } finally {
    held.lock?.release();
  }
}

/** `trainIter` once the run is locked (`held.lock` is taken after creating `out` when it was null). */
async function* trainLocked(
  params: TrainParams,
  held: { lock: RunLock | null },
): AsyncGenerator<TrainEvent, TrainSummary> {
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
  // Everything below up to "Nothing has been changed" only reads: a refusal leaves the run as it was.
  checkTrainingData({ data: params.data, config });
  const recorded = params.resume ? readRunJsonIfExists({ dir: out }) : null;
  if (params.resume && recorded === null && !params.allowDataChange && hasCheckpointFolders(out)) {
    // Without run.json nothing says which data the checkpoints were trained on.
    throw new TrainingError(
      "RUN_JSON",
      `${join(out, RUN_JSON)}: missing, while the run holds checkpoints (step{N}/); nothing records the data they were trained on: restore run.json from a copy (e.g. the Hub), or pass allowDataChange (pythia-train: --allow-data-change) to adopt this data knowingly`,
    );
  }
  let identity = await trainingDataIdentity({ data: params.data, config, source: params.dataSource });
  const resumePoint = params.resume ? await findResumeCheckpoint({ dir: out }) : null;
  const continuing = resumePoint !== null && (resumePoint.step !== null || resumePoint.rejected.length > 0);
  let changes: DataIdentityChange[] = [];
  if (recorded?.dataIdentity != null) {
    // Without a checkpoint nothing was trained: other data is a fresh start, not a change.
    const compared = compareDataIdentity(recorded.dataIdentity, identity);
    if (continuing) {
      changes = compared;
    }
    if (changes.length > 0 && !params.allowDataChange) {
      throw dataChangedError({ out, recorded: recorded.dataIdentity, changes });
    }
    if (changes.length > 0 && resumePoint?.step === config.steps) {
      // A finished run trains no further step: recording this data would claim it trained on it.
      throw new TrainingError(
        "DATA_CHANGED",
        `${join(out, RUN_JSON)}: dataIdentity: the run is finished (${checkpointName(config.steps)} is its last step), so nothing would train on this data and run.json keeps the data it was trained on; resume without allowDataChange on that data (${recorded.dataIdentity.train.prefix}), or start a new run on this data`,
      );
    }
    if (compared.length === 0 && params.dataSource === undefined) {
      // The same tokens: keep what they were tokenized from.
      const { tokenizer, inputs } = recorded.dataIdentity;
      identity = {
        ...identity,
        ...(tokenizer === undefined ? {} : { tokenizer }),
        ...(inputs === undefined ? {} : { inputs }),
      };
    }
  }
  if (resumePoint !== null && resumePoint.step === null && resumePoint.rejected.length > 0) {
    throw new TrainingError(
      "CHECKPOINT",
      `${out}: no checkpoint matches its manifest (${resumePoint.rejected.map(describeRejected).join("; ")}); nothing to resume from: restore a checkpoint from a copy (e.g. the Hub) or start again in a new output directory`,
    );
  }
  const resumeFrom = resumePoint?.step ?? undefined;
  const optimizer = new AdamW({
    beta1: config.beta1,
    beta2: config.beta2,
    eps: config.eps,
    weightDecay: config.weightDecay,
  });
  let model: GPTNeoXModel | undefined;
  let source: BatchSource | undefined;
  let startStep = 0;
  const notes: TrainEvent[] = [];
  try {
    if (resumeFrom !== undefined) {
      const restored = await readTrainingCheckpoint({
        dir: checkpointDir(out, resumeFrom),
        optimizer,
        verified: true, // findResumeCheckpoint hashed every file
      });
      model = restored.model;
      checkSameRun(restored.state.config, config, out);
      startStep = restored.state.step;
    } else {
      model = GPTNeoXModel.initialize({ config: config.model, seed: config.seed });
    }
    if (changes.length > 0 && params.data.kind === "index-map") {
      // Index maps cached in the run for the old data under the same name would pass their shape checks.
      for (const file of indexMapCacheFiles(params.data, config, out)) {
        if (!relative(resolve(out), resolve(file)).startsWith("..")) {
          rmSync(file, { force: true });
        }
      }
    }
    // Open the data before writing anything into the run directory (a failed start leaves none).
    source = openBatchSourceLeavingNothing({ data: params.data, config, out });
    // Nothing but the index-map cache has been changed so far.
    mkdirSync(out, { recursive: true });
    held.lock ??= acquireRunLock({ dir: out });
    // Safe under the lock: no other live process writes into the run.
    removeTemporaryFiles({ dir: out });
    if (resumeFrom !== undefined) {
      // Set damaged newer checkpoints aside; drop the metrics after the resume point.
      for (const rejected of resumePoint?.rejected ?? []) {
        const movedTo = setAsideCheckpoint({ dir: out, step: rejected.step });
        notes.push({ type: "checkpoint-rejected", ...rejected, movedTo, resumeFrom: startStep });
      }
      for (const warning of truncateMetrics({ dir: out, step: startStep })) {
        notes.push({
          type: "metrics-repaired",
          file: warning.file,
          line: warning.line,
          reason: warning.reason,
        });
      }
      if (recorded?.dataIdentity == null) {
        notes.push({ type: "data-identity-recorded", runJson: join(out, RUN_JSON), identity });
      } else if (changes.length > 0) {
        notes.push({ type: "data-changed", step: startStep, changes });
      }
    } else {
      resetMetrics(out);
    }
  } catch (error) {
    source?.close();
    model?.dispose();
    optimizer.dispose();
    throw error;
  }
  const decay = new Set(model.specs.filter((spec) => spec.decay).map((spec) => spec.name));
  const written: string[] = [];
  let finalLoss: number | null = null;
  let validationLoss: number | null = null;
  try {
    identity = { ...identity, order: { ...identity.order, ...describedOrder(source.describe()) } };
    const dataChanges = [
      ...(recorded?.dataChanges ?? []),
      ...(changes.length > 0 && recorded?.dataIdentity != null
        ? [{ step: startStep, changes, previous: recorded.dataIdentity }]
        : []),
    ];
    writeRunJson({
      dir: out,
      config,
      data: source.describe(),
      compute: computeInfo(),
      versions: { tfjs: tf.version_core },
      dataIdentity: identity,
      dataChanges,
    });
    yield* notes;
    yield {
      type: "run-start",
      fromStep: startStep,
      steps: config.steps,
      resumed: resumeFrom !== undefined,
      checkpointSteps: [...saveAt],
      data: source.describe(),
    };
    if (resumeFrom !== undefined && startStep > 0 && isValidationStep(startStep, config)) {
      // A run stopped between writing step{N}/ and recording its validation: run it now.
      const recordedEval = readMetrics({ dir: out }).some(
        (record) => record.type === "eval" && record.step === startStep,
      );
      if (!recordedEval) {
        const evaluation = await evaluate(model, source, config);
        if (evaluation !== null) {
          validationLoss = evaluation;
          yield { type: "validation-missing", step: startStep };
          appendMetrics(out, {
            type: "eval",
            step: startStep,
            loss: evaluation,
            perplexity: Math.exp(evaluation),
          });
          yield { type: "eval-end", step: startStep, loss: evaluation, perplexity: Math.exp(evaluation) };
        }
      }
    }
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
      if (isValidationStep(step + 1, config)) {
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

/** True when `out` holds a `step{N}/` folder (damaged or not). */
function hasCheckpointFolders(out: string): boolean {
  return existsSync(out) && readdirSync(out).some((name) => parseCheckpointName(name) !== null);
}

/** Steps after which the run validates: every `evalEvery` steps and the last. */
function isValidationStep(step: number, config: TrainConfig): boolean {
  return step === config.steps || (config.evalEvery > 0 && step % config.evalEvery === 0);
}

/** `step8 (model.safetensors: sha256 differs from the manifest's …)`. */
function describeRejected(rejected: RejectedCheckpoint): string {
  return `${checkpointName(rejected.step)}: ${rejected.failures.map((failure) => `${failure.file} ${failure.problem === "sha256" ? "sha256 differs" : failure.problem}`).join(", ")}`;
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
