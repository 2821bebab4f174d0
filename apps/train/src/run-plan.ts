/**
 * Turns the command line into a trainer call: which model, which hyper-parameters, which data, which
 * directory. Precedence: a flag given on the command line, then `--neox-config`, then (with `--resume`)
 * the run's own `run.json`, then the defaults below. Validation is the trainer's and the model's.
 */
import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { readRunJsonIfExists, type RunJson } from "@pythia/core/run";
import type { GPTNeoXConfig } from "@pythia/model";
import { pythiaPreset } from "@pythia/model";
import {
  readNeoxConfigFile,
  runTrainingInput,
  type RunTrainingInput,
  type TrainConfigInput,
  type TrainingData,
} from "@pythia/trainer";
import { BUNDLED_CORPUS_NAME } from "./bundled-corpus.js";
import { CliError } from "./cli-error.js";

/** What the command line says (commander's option values; unset flags are undefined). */
export interface CliOptions {
  preset?: string;
  neoxConfig?: string;
  data?: string;
  input?: string[];
  steps?: number;
  batchSize?: number;
  microBatchSize?: number;
  seqLength?: number;
  lr?: number;
  checkpointEvery?: number;
  evalEvery?: number;
  out?: string;
  resume?: boolean;
  allowDataChange?: boolean;
  strict?: boolean;
  seed?: number;
  backend?: string;
  threads?: number;
  pushToHub?: string;
  hubUrl: string;
  exportNeoxConfig?: string;
}

/**
 * Defaults of `pythia-train` with no arguments: pythia-14m on Tiny Shakespeare, sized to finish in about
 * 8 minutes on 2 CPU cores with the wasm backend (measured; see README).
 */
export const DEFAULTS = {
  preset: "pythia-14m",
  steps: 120,
  batchSize: 8,
  seqLength: 128,
  lr: 1e-3,
  checkpointEvery: 100,
  evalEvery: 25,
  /** Pythia's log-spaced early checkpoints: steps 1, 2, 4, …, 512. */
  logSpacedUpTo: 512,
  seed: 1234,
} as const;

/** Where the tokens come from: an existing dataset, or files to preprocess into `outputPrefix`. */
export type DataPlan =
  | { kind: "dataset"; data: TrainingData }
  | {
      kind: "preprocess";
      inputs: string[];
      outputPrefix: string;
      bundled: boolean;
      /** `--resume --input`: the run being resumed; its recorded inputs decide whether to tokenize. */
      resuming?: RunJson;
    };

/** Everything a run needs. */
export interface RunPlan {
  out: string;
  /** The model's name for humans: the preset or the YAML's file name. */
  modelName: string;
  config: TrainConfigInput;
  data: DataPlan;
  /** Continue the newest checkpoint in `out` (`--resume`). */
  resume: boolean;
  /** With `resume`, continue on other data (`--allow-data-change`). */
  allowDataChange: boolean;
  /** Refuse `--input` bytes that are not UTF-8 instead of replacing them by U+FFFD (`--strict`). */
  strict: boolean;
  /** `--resume` found the run's `run.json`: its settings are the base of this plan. */
  continuing: boolean;
}

/** Resolves the options into a plan. Reads `--neox-config` and, with `--resume`, `OUT/run.json`. */
export function planRun(options: CliOptions, now: Date = new Date()): RunPlan {
  if (options.resume && options.out === undefined) {
    throw new CliError(2, "--resume needs --output DIR, the directory of the run to continue");
  }
  if (options.allowDataChange && !options.resume) {
    throw new CliError(2, "--allow-data-change needs --resume (a new run has no data to change)");
  }
  const recorded = options.resume ? readRunJsonIfExists({ dir: options.out as string }) : null;
  const previous = recorded === null ? null : runTrainingInput(recorded);
  const neox = options.neoxConfig === undefined ? null : readNeoxConfigFile(options.neoxConfig);
  let model: GPTNeoXConfig;
  let modelName: string;
  if (neox !== null) {
    model = neox.model;
    modelName = basename(options.neoxConfig as string).replace(/\.ya?ml$/i, "");
  } else if (options.preset !== undefined || previous === null) {
    const preset = options.preset ?? DEFAULTS.preset;
    model = pythiaPreset(preset);
    modelName = preset.startsWith("pythia-") ? preset : `pythia-${preset}`;
  } else {
    model = previous.config.model;
    modelName = basename(options.out as string);
  }
  const base: Omit<TrainConfigInput, "model"> = previous?.config ?? {
    steps: DEFAULTS.steps,
    batchSize: DEFAULTS.batchSize,
    microBatchSize: DEFAULTS.batchSize,
    seqLength: DEFAULTS.seqLength,
    lr: DEFAULTS.lr,
    checkpointEvery: DEFAULTS.checkpointEvery,
    evalEvery: DEFAULTS.evalEvery,
    logSpacedUpTo: DEFAULTS.logSpacedUpTo,
    seed: DEFAULTS.seed,
  };
  const fromFile = neox?.training ?? {};
  const batchSize = options.batchSize ?? fromFile.batchSize ?? base.batchSize;
  // Without a micro-batch size, a batch size given here runs without gradient accumulation.
  const microBatchSize =
    options.microBatchSize ??
    fromFile.microBatchSize ??
    (options.batchSize !== undefined || fromFile.batchSize !== undefined ? batchSize : base.microBatchSize);
  // Flags that contradict each other are a usage error (exit 2); a YAML whose sizes do, the trainer's (exit 1).
  if (
    (options.batchSize !== undefined || options.microBatchSize !== undefined) &&
    batchSize % microBatchSize !== 0
  ) {
    throw new CliError(
      2,
      `--micro-batch-size ${microBatchSize} must divide --batch-size ${batchSize} (gradient accumulation needs equal micro-batches); pass a --micro-batch-size that divides it, e.g. ${largestDivisorUpTo(batchSize, microBatchSize)}`,
    );
  }
  const flags = {
    steps: options.steps,
    seqLength: options.seqLength,
    lr: options.lr,
    checkpointEvery: options.checkpointEvery,
    evalEvery: options.evalEvery,
    seed: options.seed,
  };
  const config: TrainConfigInput = {
    ...base,
    ...fromFile,
    ...Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined)),
    model,
    batchSize,
    microBatchSize,
  };
  const out = options.out ?? join("runs", `${modelName}-${timestamp(now)}`);
  return {
    out,
    modelName,
    config,
    data: planData(options, out, previous, recorded),
    resume: options.resume === true,
    allowDataChange: options.allowDataChange === true,
    strict: options.strict === true,
    continuing: previous !== null,
  };
}

function planData(
  options: CliOptions,
  out: string,
  previous: RunTrainingInput | null,
  recorded: RunJson | null,
): DataPlan {
  if (options.data !== undefined) {
    const prefix = options.data.replace(/\.(bin|idx)$/, "");
    const missing = [".bin", ".idx"].filter((ext) => !existsSync(`${prefix}${ext}`));
    if (missing.length > 0) {
      throw new CliError(
        1,
        `--data ${options.data}: ${missing.map((ext) => `${prefix}${ext}`).join(" and ")} not found; pass the prefix of an existing .bin/.idx pair (e.g. data/pile_text_document), or --input FILE... to tokenize text`,
      );
    }
    return { kind: "dataset", data: { kind: "index-map", prefix } };
  }
  if (options.input !== undefined) {
    const missing = options.input.filter((file) => !existsSync(file));
    if (missing.length > 0) {
      throw new CliError(1, `--input: ${missing.join(", ")} not found`);
    }
    const folder = options.input.find((file) => statSync(file).isDirectory());
    if (folder !== undefined) {
      throw new CliError(
        1,
        `--input ${folder}: is a directory; pass the files in it (e.g. ${join(folder, "*.jsonl.zst")})`,
      );
    }
    const name = basename(options.input[0] as string).replace(/(\.jsonl)?(\.zst)?(\.[a-z]+)?$/i, "");
    return {
      kind: "preprocess",
      inputs: options.input,
      outputPrefix: join(out, "data", name || "corpus"),
      bundled: false,
      ...(options.resume && recorded !== null ? { resuming: recorded } : {}),
    };
  }
  if (previous !== null) {
    return { kind: "dataset", data: previous.data };
  }
  return {
    kind: "preprocess",
    inputs: [],
    outputPrefix: join(out, "data", BUNDLED_CORPUS_NAME),
    bundled: true,
  };
}

/** The largest divisor of `n` that is at most `limit` (at least 1). */
function largestDivisorUpTo(n: number, limit: number): number {
  for (let d = Math.min(n, limit); d > 1; d--) {
    if (n % d === 0) {
      return d;
    }
  }
  return 1;
}

function timestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}
