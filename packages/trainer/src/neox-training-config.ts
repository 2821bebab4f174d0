/**
 * GPT-NeoX training YAML ↔ a training configuration: the training keys a GPT-NeoX (Pythia) config
 * states, and a YAML that trains the same run with GPT-NeoX + DeepSpeed (model keys from
 * `@pythia/model`'s `toNeoxYaml`, the rest named as in Pythia's configs). Wire-format mapping only;
 * the model part is `fromNeoxYaml` / `toNeoxYaml`.
 */
import { readFileSync } from "node:fs";
import { fromNeoxYaml, toNeoxYaml, type GPTNeoXConfig } from "@pythia/model";
import { checkpointSteps } from "@pythia/core";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { NeoxTrainingFormat } from "./neox-training-format.js";
import type { TrainConfig, TrainConfigInput } from "./train-config.js";
import { TrainingError } from "./training-errors.js";

/** The training settings a GPT-NeoX YAML states (absent keys stay undefined). */
export type NeoxTrainingSettings = Partial<Omit<TrainConfigInput, "model">>;

/** A GPT-NeoX config file: the model it describes and the training settings it states. */
export interface NeoxConfigFile {
  model: GPTNeoXConfig;
  training: NeoxTrainingSettings;
}

/**
 * Reads a GPT-NeoX YAML (Pythia's `.yml` files parse as-is): the model and the training settings.
 * @throws TrainingError (`CONFIG`) naming the file and key; ModelError for bad model keys.
 */
export function readNeoxConfigFile(path: string): NeoxConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new TrainingError("CONFIG", `cannot read the GPT-NeoX config ${path} (${code})`);
  }
  let yaml: unknown;
  try {
    yaml = parseYaml(text);
  } catch (error) {
    throw new TrainingError("CONFIG", `${path}: not valid YAML (${(error as Error).message.split("\n")[0]})`);
  }
  if (typeof yaml !== "object" || yaml === null || Array.isArray(yaml)) {
    throw new TrainingError("CONFIG", `${path}: expected a mapping of GPT-NeoX arguments`);
  }
  const model = fromNeoxYaml({ yaml: yaml as Record<string, unknown>, source: path });
  return { model, training: readTrainingKeys(yaml as Record<string, unknown>, path) };
}

/** GPT-NeoX reads `train-iters` and `train_iters` alike; so do we. */
function readTrainingKeys(yaml: Record<string, unknown>, path: string): NeoxTrainingSettings {
  const keys = new Map(Object.entries(yaml).map(([key, value]) => [key.replaceAll("-", "_"), value]));
  const number = (key: string): number | undefined => {
    const value = keys.get(key.replaceAll("-", "_"));
    if (value === undefined || value === null) {
      return undefined;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TrainingError("CONFIG", `${path}: "${key}" must be a number, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const optimizer = keys.get("optimizer") as NeoxTrainingFormat["optimizer"] | undefined;
  const params = optimizer?.params ?? {};
  if (optimizer?.type !== undefined && !/^adam(w)?$/i.test(optimizer.type)) {
    throw new TrainingError(
      "CONFIG",
      `${path}: optimizer type "${optimizer.type}" is not supported (pythia-train trains with AdamW, as Pythia's "Adam" with weight decay)`,
    );
  }
  const lrDecayStyle = keys.get("lr_decay_style");
  if (lrDecayStyle !== undefined && lrDecayStyle !== "cosine") {
    throw new TrainingError(
      "CONFIG",
      `${path}: lr-decay-style "${String(lrDecayStyle)}" is not supported (only cosine, as in Pythia)`,
    );
  }
  const micro = number("train-micro-batch-size-per-gpu");
  const accumulation = number("gradient_accumulation_steps");
  const global = number("train_batch_size");
  const extraSaveIters = keys.get("extra_save_iters");
  const logSpacedUpTo = Array.isArray(extraSaveIters)
    ? Math.max(0, ...extraSaveIters.filter((step): step is number => typeof step === "number"))
    : undefined;
  const settings: NeoxTrainingSettings = {
    steps: number("train-iters"),
    seqLength: number("seq-length"),
    microBatchSize: micro,
    batchSize: global ?? (micro === undefined ? undefined : micro * (accumulation ?? 1)),
    lr: params.lr,
    minLr: number("min_lr"),
    warmupFraction: number("warmup"),
    weightDecay: number("weight-decay"),
    beta1: params.betas?.[0],
    beta2: params.betas?.[1],
    eps: params.eps,
    gradClip: number("gradient_clipping"),
    checkpointEvery: number("checkpoint-factor"),
    logSpacedUpTo,
    seed: number("seed"),
  };
  return Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== undefined),
  ) as NeoxTrainingSettings;
}

/** Parameters of `toNeoxTrainingYaml`. */
export interface ToNeoxTrainingYamlParams {
  config: TrainConfig;
  /** The `.bin/.idx` prefix the run trains on. */
  dataPrefix: string;
  /** The tokenizer.json that made the data. */
  vocabFile: string;
  /** Where GPT-NeoX saves (and resumes) its checkpoints. */
  saveDir: string;
}

/**
 * A GPT-NeoX YAML that trains the same model on the same data with GPT-NeoX + DeepSpeed
 * (`python ./deepy.py train.py FILE`), one GPU; keys as in Pythia's configs.
 */
export function toNeoxTrainingYaml(params: ToNeoxTrainingYamlParams): string {
  const { config } = params;
  const model = parseYaml(toNeoxYaml(config.model)) as Record<string, unknown>;
  const schedule = checkpointSteps({
    steps: config.steps,
    every: config.checkpointEvery,
    logSpacedUpTo: config.logSpacedUpTo,
  });
  const padded = Math.ceil(50277 / 128) * 128;
  const training: NeoxTrainingFormat = {
    "make-vocab-size-divisible-by": config.model.vocabSize === padded ? 128 : config.model.vocabSize,
    "seq-length": config.seqLength,
    "hidden-dropout": 0,
    "attention-dropout": 0,
    "train-micro-batch-size-per-gpu": config.microBatchSize,
    gradient_accumulation_steps: config.batchSize / config.microBatchSize,
    "train-iters": config.steps,
    "lr-decay-iters": config.steps,
    "lr-decay-style": "cosine",
    warmup: config.warmupFraction,
    optimizer: {
      type: "Adam",
      params: { lr: config.lr, betas: [config.beta1, config.beta2], eps: config.eps },
    },
    min_lr: config.minLr ?? 0.1 * config.lr,
    "weight-decay": config.weightDecay,
    gradient_clipping: config.gradClip,
    "checkpoint-factor": config.checkpointEvery,
    "extra-save-iters": schedule.filter((step) => step === 0 || step % config.checkpointEvery !== 0),
    "eval-interval": config.evalEvery > 0 ? config.evalEvery : config.steps,
    "eval-iters": config.evalBatches,
    seed: config.seed,
    "train-data-paths": [params.dataPrefix],
    "valid-data-paths": [params.dataPrefix],
    "test-data-paths": [params.dataPrefix],
    "data-impl": "mmap",
    "tokenizer-type": "HFTokenizer",
    "vocab-file": params.vocabFile,
    save: params.saveDir,
    load: params.saveDir,
  };
  const header = [
    "# GPT-NeoX config written by pythia-train --export-neox-config: the same model, data and schedule.",
    "# Run from a GPT-NeoX checkout: python ./deepy.py train.py THIS_FILE",
    "# Paths are this machine's; copy the .bin/.idx and tokenizer.json and edit them on another one.",
  ];
  return `${header.join("\n")}\n${pyyamlFloats(stringifyYaml({ ...model, ...training }))}`;
}

/**
 * GPT-NeoX reads its configs with PyYAML (YAML 1.1), which takes `1e-8` for a string: a float in
 * exponent form needs a dot and a signed exponent there (`1.0e-8`, as Pythia's configs write it).
 */
function pyyamlFloats(yaml: string): string {
  return yaml.replace(
    /^(\s*(?:- |[^\s:][^:]*: ))(-?\d+)(\.\d+)?e([-+]?)(\d+)$/gm,
    (_, lead: string, whole: string, fraction: string | undefined, sign: string, exponent: string) =>
      `${lead}${whole}${fraction ?? ".0"}e${sign || "+"}${exponent}`,
  );
}
