import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { renameDurable } from "@pythia/core";
import { join } from "node:path";
import { checkpointDir, temporaryPath, verifyCheckpoint, writeManifest } from "@pythia/core/run";
import {
  loadCheckpoint,
  readSafetensors,
  saveCheckpoint,
  writeSafetensors,
  type GPTNeoXModel,
  type TensorEntry,
} from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";
import type { AdamW } from "./adamw.js";
import type { TrainConfig } from "./train-config.js";
import { TrainingError } from "./training-errors.js";

/** `trainer_state.json`: where training stands after a checkpoint's step. */
export interface TrainerState {
  /** Optimizer steps taken (the N of `stepN`). */
  step: number;
  /** Index of the next training sample (= step × batchSize). */
  nextSample: number;
  /** Learning rate of the last update (0 before any). */
  lr: number;
  /** The resolved training configuration. */
  config: TrainConfig;
  /** Training has no randomness after initialisation (dropout is 0); the seed fixes init and data order. */
  seed: number;
  /** Dynamic loss scale (float32 training has none). */
  lossScale: null;
}

/**
 * Writes `out/step{N}/`: the HF checkpoint (config.json, model.safetensors, tokenizer files),
 * `optimizer.safetensors` (moments by parameter name), `trainer_state.json` and `manifest.json`.
 * Everything goes to a temporary sibling (`step{N}.tmp-*`) that is renamed into place once the
 * manifest is written, so a directory named `stepN` is always complete. Contains no timestamps: the same run
 * gives byte-identical checkpoints.
 */
export async function writeTrainingCheckpoint(params: {
  out: string;
  model: GPTNeoXModel;
  optimizer: AdamW;
  state: TrainerState;
}): Promise<{ dir: string; bytes: number }> {
  const final = checkpointDir(params.out, params.state.step);
  const partial = temporaryPath(final);
  try {
    await saveCheckpoint({ model: params.model, dir: partial });
    const moments: Record<string, TensorEntry> = {};
    for (const [parameter, slot] of params.optimizer.slots) {
      moments[`exp_avg.${parameter}`] = {
        dtype: "F32",
        shape: [...slot.m.shape],
        data: (await slot.m.data()) as Float32Array,
      };
      moments[`exp_avg_sq.${parameter}`] = {
        dtype: "F32",
        shape: [...slot.v.shape],
        data: (await slot.v.data()) as Float32Array,
      };
    }
    await writeSafetensors(join(partial, "optimizer.safetensors"), moments, {
      metadata: { step: String(params.optimizer.step) },
    });
    writeFileSync(join(partial, "trainer_state.json"), `${JSON.stringify(params.state, null, 2)}\n`);
    const { bytes } = await writeManifest({ dir: partial, step: params.state.step });
    if (existsSync(final)) {
      rmSync(final, { recursive: true, force: true });
    }
    renameDurable(partial, final);
    return { dir: final, bytes };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Loads a training checkpoint: the model (trainable), the optimizer moments, and the trainer state. */
export async function readTrainingCheckpoint(params: {
  dir: string;
  optimizer: AdamW;
  /** The caller has already checked every file against `manifest.json` (skips a second sha256 pass). */
  verified?: boolean;
}): Promise<{ model: GPTNeoXModel; state: TrainerState }> {
  if (params.verified !== true) {
    const verification = await verifyCheckpoint({ dir: params.dir });
    if (!verification.ok) {
      throw new TrainingError(
        "CHECKPOINT",
        `${params.dir}: does not match its manifest (${verification.failures.map((f) => f.detail).join("; ")}); restore it from a copy (e.g. the Hub) or use an earlier step`,
      );
    }
  }
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(join(params.dir, "trainer_state.json"), "utf8")) as TrainerState;
  } catch (error) {
    throw new TrainingError(
      "CHECKPOINT",
      `${params.dir}/trainer_state.json: cannot read it (${(error as Error).message}); this is not a training checkpoint`,
    );
  }
  const model = await loadCheckpoint({ dir: params.dir, verify: false }); // verified above, optimizer included
  const optimizerFile = join(params.dir, "optimizer.safetensors");
  const { tensors, metadata } = await readSafetensors(optimizerFile, {
    // From the header, before any data is read: a stray or mis-shaped tensor is refused unread.
    checkTensors: (described) => checkMoments({ file: optimizerFile, described, model }),
  });
  params.optimizer.step = Number(metadata.step ?? state.step);
  for (const name of Object.keys(model.params)) {
    const m = tensors.get(`exp_avg.${name}`);
    const v = tensors.get(`exp_avg_sq.${name}`);
    if (m === undefined || v === undefined) {
      if (params.optimizer.step === 0) {
        continue;
      }
      throw new TrainingError(
        "CHECKPOINT",
        `${params.dir}/optimizer.safetensors: no moments for ${name}; the checkpoint is damaged`,
      );
    }
    params.optimizer.slots.set(name, {
      m: tf.variable(tf.tensor(m.data as Float32Array, m.shape), false),
      v: tf.variable(tf.tensor(v.data as Float32Array, v.shape), false),
    });
  }
  return { model, state };
}

/** Float dtypes a moment may be stored in. */
const MOMENT_DTYPES = new Set(["F32", "F16", "BF16", "F64"]);

/**
 * Refuses an `optimizer.safetensors` header naming anything but `exp_avg.X` / `exp_avg_sq.X` for a
 * parameter X of the model, with X's shape and a float dtype.
 */
function checkMoments(params: {
  file: string;
  /** The header's tensors (`checkTensors`' argument). */
  described: ReadonlyMap<string, { dtype: string; shape: readonly number[] }>;
  model: GPTNeoXModel;
}): void {
  const problems: string[] = [];
  for (const [name, tensor] of params.described) {
    const match = /^exp_avg(?:_sq)?\.(.+)$/.exec(name);
    const parameter = match === null ? undefined : params.model.params[match[1] as string];
    if (parameter === undefined) {
      problems.push(`${name} is not a moment of a model parameter`);
    } else if (JSON.stringify(tensor.shape) !== JSON.stringify(parameter.shape)) {
      problems.push(
        `${name} has shape [${tensor.shape.join(", ")}], the parameter [${parameter.shape.join(", ")}]`,
      );
    } else if (!MOMENT_DTYPES.has(tensor.dtype)) {
      problems.push(`${name} has dtype ${tensor.dtype}, not a float`);
    }
  }
  if (problems.length > 0) {
    throw new TrainingError(
      "CHECKPOINT",
      `${params.file}: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? `; and ${problems.length - 3} more` : ""}; this is not this model's optimizer state: restore the checkpoint from a copy (e.g. the Hub) or use an earlier step`,
    );
  }
}
