/**
 * The tuned lens (Belrose et al. 2023, `AlignmentResearch/tuned-lens`): one affine translator per
 * layer ℓ = 0…L−1 (the embedding output and blocks 0…L−2; the last layer needs none), applied
 * residually, `lens_ℓ(h) = unembed(h + h·A_ℓᵀ + b_ℓ)`, with A and b initialised to zero (the logit
 * lens) and the unembedding (final LayerNorm + embed_out) frozen. Trained to minimise
 * KL(p_final ‖ p_lens) per position with the tuned-lens defaults: SGD with Nesterov momentum 0.9,
 * lr = 1.0·(1 − 0.9), weight decay 1e-3, linear decay to 0, global gradient-norm clip 1.0, 250 steps;
 * all translators are trained from the same forward pass. Saved as `config.json` + `params.safetensors`
 * (`layer_translators.{ℓ}.weight` `[C, C]`, PyTorch layout, and `.bias` `[C]`).
 *
 * Symbols: N = positions in a batch (B·T), C = hidden size, V = vocabulary.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { drain, writeFileAtomic } from "@pythia/core";
import { layerNorm, readSafetensors, serializeSafetensors, type GPTNeoXModel } from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";
import { AnalysisError } from "./analysis-errors.js";

/** A tuned lens: one translator per layer, as tfjs variables. */
export interface TunedLens {
  hiddenSize: number;
  /** `[C, C]` per layer, PyTorch layout (`h·Aᵀ`). */
  weights: tf.Variable<tf.Rank.R2>[];
  /** `[C]` per layer. */
  biases: tf.Variable<tf.Rank.R1>[];
}

/** A variable holding `value`; the source tensor is freed (tf.variable keeps its own reference). */
function variableOf<R extends tf.Rank>(value: tf.Tensor<R>, trainable = true): tf.Variable<R> {
  const variable = tf.variable(value, trainable);
  value.dispose();
  return variable;
}

/** The identity lens (zero translators) for `model`: equal to the logit lens. */
export function createTunedLens(model: GPTNeoXModel): TunedLens {
  const C = model.config.hiddenSize;
  const layers = model.config.numLayers;
  return {
    hiddenSize: C,
    weights: Array.from({ length: layers }, () => variableOf(tf.zeros([C, C]) as tf.Tensor2D)),
    biases: Array.from({ length: layers }, () => variableOf(tf.zeros([C]) as tf.Tensor1D)),
  };
}

/**
 * Throws unless `lens` has one translator per layer of `model` and its hidden size.
 * @throws AnalysisError (`INPUT`)
 */
export function checkLensFits(lens: TunedLens, model: GPTNeoXModel): void {
  const { numLayers, hiddenSize } = model.config;
  if (
    lens.weights.length !== numLayers ||
    lens.biases.length !== numLayers ||
    lens.hiddenSize !== hiddenSize
  ) {
    throw new AnalysisError(
      "INPUT",
      `tuned lens: ${lens.weights.length} translators of size ${lens.hiddenSize} do not fit a model with ${numLayers} layers of size ${hiddenSize}; train a lens for this model`,
    );
  }
}

/** Frees a lens's variables. */
export function disposeTunedLens(lens: TunedLens): void {
  tf.dispose([...lens.weights, ...lens.biases]);
}

/** `h + h·Aᵀ + b` for layer `layer`; `h` is `[N, C]`. */
export function translate(lens: TunedLens, layer: number, h: tf.Tensor2D): tf.Tensor2D {
  const weight = lens.weights[layer];
  const bias = lens.biases[layer];
  if (weight === undefined || bias === undefined) {
    throw new AnalysisError(
      "INPUT",
      `tuned lens: no translator for layer ${layer} (it has ${lens.weights.length})`,
    );
  }
  return tf.tidy(() => tf.add(tf.add(h, tf.matMul(h, tf.transpose(weight))), bias)); // [N, C]
}

/**
 * The frozen unembedding as a function of the (translated) hidden state, `[N, C]` → logits `[N, V]`.
 * Both products are plain 2-D ones (the fast wasm path): `x·Wᵀ` with Wᵀ made once, and the gradient
 * `dy·W`.
 */
function unembedding(model: GPTNeoXModel): { apply: (x: tf.Tensor2D) => tf.Tensor2D; dispose: () => void } {
  const config = model.config;
  const unembed = (
    config.tieWordEmbeddings ? model.params["gpt_neox.embed_in.weight"] : model.params["embed_out.weight"]
  ) as tf.Tensor2D; // [V, C]
  const unembedT = tf.tidy(() => tf.transpose(unembed)) as tf.Tensor2D; // [C, V]
  const product = tf.customGrad(((x: tf.Tensor) => ({
    value: tf.matMul(x as tf.Tensor2D, unembedT), // [N, V]
    gradFunc: (dy: tf.Tensor) => [tf.matMul(dy as tf.Tensor2D, unembed)], // [N, C]
  })) as Parameters<typeof tf.customGrad>[0]);
  return {
    apply: (x) =>
      product(
        layerNorm(
          x,
          model.params["gpt_neox.final_layer_norm.weight"] as tf.Tensor,
          model.params["gpt_neox.final_layer_norm.bias"] as tf.Tensor,
          config.layerNormEps,
        ),
      ) as tf.Tensor2D,
    dispose: () => unembedT.dispose(),
  };
}

/** Mean over positions of KL(p ‖ q) from log-probabilities `[N, V]`. */
function meanKl(targetLogProbs: tf.Tensor2D, logProbs: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.sum(tf.mul(tf.exp(targetLogProbs), tf.sub(targetLogProbs, logProbs)), -1));
}

/** Parameters of `trainTunedLensIter`. */
export interface TrainTunedLensParams {
  model: GPTNeoXModel;
  /** Token-id sequences of optimizer step `step` (0-based), e.g. training rows of the run. */
  batch: (step: number) => number[][];
  /** @default 250 */
  steps?: number;
  /** @default 1.0 (lr = lrScale · (1 − momentum)) */
  lrScale?: number;
  /** @default 0.9 */
  momentum?: number;
  /** @default 1e-3 */
  weightDecay?: number;
  /** Global gradient-norm clip. @default 1.0 */
  clip?: number;
  /** Continue training this lens (default: a new identity lens). */
  lens?: TunedLens;
  signal?: AbortSignal;
}

/** One optimizer step of the lens. */
export type TunedLensEvent = { type: "step-end"; step: number; lr: number; loss: number[]; meanLoss: number };

/** Trains a tuned lens, yielding the per-layer KL after each step; returns the lens. */
export async function* trainTunedLensIter(
  params: TrainTunedLensParams,
): AsyncGenerator<TunedLensEvent, TunedLens> {
  const { model } = params;
  const steps = params.steps ?? 250;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new AnalysisError("INPUT", `tuned lens: steps must be a positive integer, got ${steps}`);
  }
  const momentum = params.momentum ?? 0.9;
  const baseLr = (params.lrScale ?? 1) * (1 - momentum);
  const weightDecay = params.weightDecay ?? 1e-3;
  const clip = params.clip ?? 1;
  if (params.lens !== undefined) {
    checkLensFits(params.lens, model);
  }
  const lens = params.lens ?? createTunedLens(model);
  const variables: tf.Variable[] = [...lens.weights, ...lens.biases];
  const buffers = variables.map((v) => variableOf(tf.zerosLike(v), false));
  const unembed = unembedding(model);
  try {
    for (let step = 0; step < steps; step++) {
      params.signal?.throwIfAborted();
      const lr = baseLr * (1 - step / steps);
      const ids = params.batch(step);
      const { logits, hiddenStates } = model.forward(ids, { outputHiddenStates: true });
      const states = hiddenStates as tf.Tensor3D[];
      const losses: number[] = [];
      const grads: tf.Tensor[] = new Array(variables.length);
      try {
        const V = logits.shape[2];
        const C = lens.hiddenSize;
        const target = tf.tidy(() =>
          tf.logSoftmax(tf.reshape(logits, [-1, V]) as tf.Tensor2D),
        ) as tf.Tensor2D;
        try {
          for (let layer = 0; layer < lens.weights.length; layer++) {
            const weight = lens.weights[layer] as tf.Variable;
            const bias = lens.biases[layer] as tf.Variable;
            const result = tf.variableGrads(() => {
              const h = tf.reshape(states[layer] as tf.Tensor3D, [-1, C]) as tf.Tensor2D; // [N, C]
              return meanKl(target, tf.logSoftmax(unembed.apply(translate(lens, layer, h))) as tf.Tensor2D);
            }, [weight, bias]);
            grads[layer] = result.grads[weight.name] as tf.Tensor;
            grads[lens.weights.length + layer] = result.grads[bias.name] as tf.Tensor;
            losses.push((await result.value.data())[0] as number);
            result.value.dispose();
          }
        } finally {
          target.dispose();
        }
        // An asynchronous read: a synchronous one is not available on the WebGPU backend in Node.
        // Pairwise adds: WebGPU's AddN binds every input at once, more than a shader stage may have.
        const normTensor = tf.tidy(() =>
          tf.sqrt(grads.map((g) => tf.sum(tf.square(g))).reduce((total, square) => tf.add(total, square))),
        );
        const norm = (await normTensor.data())[0] as number;
        normTensor.dispose();
        tf.tidy(() => {
          const scale = norm > clip ? clip / (norm + 1e-6) : 1;
          for (const [i, variable] of variables.entries()) {
            // torch.optim.SGD: g += wd·p; buf = μ·buf + g; g = g + μ·buf (Nesterov); p -= lr·g
            const g = tf.add(tf.mul(grads[i] as tf.Tensor, scale), tf.mul(variable, weightDecay));
            const buffer = buffers[i] as tf.Variable;
            buffer.assign(tf.add(tf.mul(buffer, momentum), g));
            variable.assign(tf.sub(variable, tf.mul(tf.add(g, tf.mul(buffer, momentum)), lr)));
          }
        });
      } finally {
        tf.dispose([logits, ...states, ...grads.filter((g) => g !== undefined)]);
      }
      yield {
        type: "step-end",
        step: step + 1,
        lr,
        loss: losses,
        meanLoss: losses.reduce((a, b) => a + b, 0) / losses.length,
      };
    }
  } catch (error) {
    if (params.lens === undefined) {
      disposeTunedLens(lens);
    }
    throw error;
  } finally {
    unembed.dispose();
    tf.dispose(buffers);
  }
  return lens;
}

/** Drains `trainTunedLensIter`. */
export async function trainTunedLens(
  params: TrainTunedLensParams & { onEvent?: (event: TunedLensEvent) => void },
): Promise<TunedLens> {
  return drain(trainTunedLensIter(params), params.onEvent);
}

/** `config.json` of a saved lens (tuned-lens's fields; `params.safetensors` instead of `params.pt`). */
interface TunedLensConfigFormat {
  lens_type: "linear_tuned_lens";
  d_model: number;
  num_hidden_layers: number;
  bias: true;
  base_model_name_or_path: string | null;
  base_model_revision: string | null;
}

/** Writes `config.json` and `params.safetensors` of `lens` into `dir`. */
export async function saveTunedLens(params: {
  lens: TunedLens;
  dir: string;
  baseModel?: string;
  baseModelRevision?: string;
}): Promise<void> {
  const { lens, dir } = params;
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  for (const [layer, weight] of lens.weights.entries()) {
    tensors[`layer_translators.${layer}.weight`] = {
      dtype: "F32",
      shape: weight.shape,
      data: (await weight.data()) as Float32Array,
    };
    const bias = lens.biases[layer] as tf.Variable;
    tensors[`layer_translators.${layer}.bias`] = {
      dtype: "F32",
      shape: bias.shape,
      data: (await bias.data()) as Float32Array,
    };
  }
  writeFileAtomic(join(dir, "params.safetensors"), serializeSafetensors(tensors));
  const config: TunedLensConfigFormat = {
    lens_type: "linear_tuned_lens",
    d_model: lens.hiddenSize,
    num_hidden_layers: lens.weights.length,
    bias: true,
    base_model_name_or_path: params.baseModel ?? null,
    base_model_revision: params.baseModelRevision ?? null,
  };
  writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Reads a lens written by `saveTunedLens`.
 * @throws AnalysisError (`DATA_MISSING`, `DATA_FORMAT`) naming the file and field.
 */
export async function loadTunedLens(dir: string): Promise<TunedLens> {
  const configPath = join(dir, "config.json");
  const paramsPath = join(dir, "params.safetensors");
  for (const path of [configPath, paramsPath]) {
    if (!existsSync(path)) {
      throw new AnalysisError(
        "DATA_MISSING",
        `${path} is missing; pass a directory written by saveTunedLens (pythia-analyze tuned-lens)`,
      );
    }
  }
  let config: TunedLensConfigFormat;
  try {
    config = JSON.parse(readFileSync(configPath, "utf8")) as TunedLensConfigFormat;
  } catch (error) {
    throw new AnalysisError("DATA_FORMAT", `${configPath}: not valid JSON (${(error as Error).message})`);
  }
  if (
    config.lens_type !== "linear_tuned_lens" ||
    !Number.isInteger(config.d_model) ||
    !Number.isInteger(config.num_hidden_layers)
  ) {
    throw new AnalysisError(
      "DATA_FORMAT",
      `${configPath}: expected lens_type "linear_tuned_lens" with integer d_model and num_hidden_layers`,
    );
  }
  const contents = await readSafetensors(paramsPath);
  const C = config.d_model;
  const take = (name: string, shape: number[]): Float32Array => {
    const entry = contents.tensors.get(name);
    if (entry === undefined || entry.shape.join(",") !== shape.join(",")) {
      throw new AnalysisError(
        "DATA_FORMAT",
        `${paramsPath}: ${name} must be F32 [${shape.join(", ")}]${entry === undefined ? ", missing" : `, got [${entry.shape.join(", ")}]`}`,
      );
    }
    return entry.data as Float32Array;
  };
  const lens: TunedLens = { hiddenSize: C, weights: [], biases: [] };
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    lens.weights.push(variableOf(tf.tensor2d(take(`layer_translators.${layer}.weight`, [C, C]), [C, C])));
    lens.biases.push(variableOf(tf.tensor1d(take(`layer_translators.${layer}.bias`, [C]))));
  }
  return lens;
}
