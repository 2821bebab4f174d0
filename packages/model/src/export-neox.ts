import { mkdir, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { drain, renameDurable } from "@pythia/core";
import { PickleOrderedDict, TorchTensorToSave, writeTorchCheckpoint } from "@pythia/torch-checkpoint";
import { stringify as stringifyYaml, parse as parseYaml } from "yaml";
import { fromHfConfig, toNeoxYaml } from "./config-convert.js";
import type { GPTNeoXConfig } from "./config.js";
import { ModelError } from "./model-errors.js";
import {
  NEOX_BLOCK_KEYS,
  neoxLayerFileName,
  neoxLayerIndex,
  neoxRankFileName,
  type NeoxLayout,
  type NeoxMlpNaming,
} from "./neox-checkpoint-layout.js";
import type { TensorEntry } from "./safetensors.js";
import { loadWeightTensors } from "./weight-files.js";

/** Parameters of {@link exportNeoxCheckpoint}. */
export interface ExportNeoxCheckpointParams {
  /** A Hugging Face folder (`config.json` + weights in any form `loadCheckpoint` reads). */
  checkpoint: string;
  /** The GPT-NeoX save folder to write; must not exist unless `overwrite`. */
  out: string;
  /** Model-parallel ranks to split into. @default 1 */
  modelParallel?: number;
  /** `pipeline` (per-layer files, pipe-parallel-size ≥ 1) or `sequential` (pipe-parallel-size 0). @default "pipeline" */
  layout?: NeoxLayout;
  /** The iteration the checkpoint is saved at (`global_stepN`). @default 0 */
  step?: number;
  /** `legacy` (`mlp.dense_h_to_4h`, Pythia's GPT-NeoX) or `new` (`mlp.linear1`, GPT-NeoX ≥ 3). @default "legacy" */
  mlpNaming?: NeoxMlpNaming;
  /** Replace an existing `out`. @default false */
  overwrite?: boolean;
}

/** Progress of {@link exportNeoxCheckpointIter}. */
export type ExportNeoxEvent =
  { type: "file-written"; file: string; done: number; total: number } | { type: "written"; dir: string };

/** What an export wrote. */
export interface ExportNeoxResult {
  dir: string;
  /** `global_stepN`. */
  tag: string;
  /** The YAML written to `neox.yml` (model, parallelism, vocabulary and precision keys). */
  yaml: string;
  config: GPTNeoXConfig;
}

type Array16or32 = Float32Array | Uint16Array;

interface Weight {
  dtype: "F32" | "F16" | "BF16";
  shape: number[];
  data: Array16or32;
}

function weight(tensors: Map<string, TensorEntry>, name: string, source: string): Weight {
  const entry = tensors.get(name);
  if (entry === undefined) {
    throw new ModelError(
      "CHECKPOINT_FORMAT",
      `${source}: no tensor ${name}; export needs a complete GPTNeoXForCausalLM checkpoint`,
    );
  }
  if (
    (entry.dtype === "F32" && entry.data instanceof Float32Array) ||
    ((entry.dtype === "F16" || entry.dtype === "BF16") && entry.data instanceof Uint16Array)
  ) {
    return { dtype: entry.dtype, shape: entry.shape, data: entry.data };
  }
  throw new ModelError(
    "CHECKPOINT_FORMAT",
    `${source}: ${name} is ${entry.dtype}; export writes float32, float16 or bfloat16 weights`,
  );
}

function splitRows(w: Weight, parts: number, name: string): Weight[] {
  const rows = w.shape[0] as number;
  if (rows % parts !== 0) {
    throw new ModelError(
      "MODEL_INPUT",
      `${name}: ${rows} rows do not split into ${parts} model-parallel ranks; choose a model parallelism that divides it`,
    );
  }
  const rowsPer = rows / parts;
  const width = w.data.length / rows || 0;
  return Array.from({ length: parts }, (_, rank) => ({
    dtype: w.dtype,
    shape: [rowsPer, ...w.shape.slice(1)],
    data: w.data.slice(rank * rowsPer * width, (rank + 1) * rowsPer * width),
  }));
}

function splitColumns(w: Weight, parts: number, name: string): Weight[] {
  const [rows, columns] = w.shape as [number, number];
  if (columns % parts !== 0) {
    throw new ModelError(
      "MODEL_INPUT",
      `${name}: ${columns} columns do not split into ${parts} model-parallel ranks; choose a model parallelism that divides it`,
    );
  }
  const per = columns / parts;
  return Array.from({ length: parts }, (_, rank) => {
    const data = w.data instanceof Float32Array ? new Float32Array(rows * per) : new Uint16Array(rows * per);
    for (let row = 0; row < rows; row++) {
      data.set(w.data.subarray(row * columns + rank * per, row * columns + (rank + 1) * per), row * per);
    }
    return { dtype: w.dtype, shape: [rows, per], data };
  });
}

/** Rank 0 holds the bias, the others zeros: the converter's sum gives the bias back bit for bit. */
function splitSummed(w: Weight, parts: number): Weight[] {
  return Array.from({ length: parts }, (_, rank) => ({
    dtype: w.dtype,
    shape: w.shape,
    data:
      rank === 0
        ? w.data
        : w.data instanceof Float32Array
          ? new Float32Array(w.data.length)
          : new Uint16Array(w.data.length),
  }));
}

function replicate(w: Weight, parts: number): Weight[] {
  return Array.from({ length: parts }, () => w);
}

function toSave(w: Weight): TorchTensorToSave {
  return new TorchTensorToSave(w.dtype, w.shape, w.data);
}

/** `make-vocab-size-divisible-by` that makes GPT-NeoX pad the tokenizer's vocabulary to exactly `vocabSize` rows. */
export function neoxVocabDivisor(vocabSize: number, modelParallel: number): number {
  const tokenizerSize = vocabSize >= 50277 ? 50277 : vocabSize;
  for (let divisor = 128; divisor >= 1; divisor--) {
    const multiple = divisor * modelParallel;
    if (Math.ceil(tokenizerSize / multiple) * multiple === vocabSize) {
      return divisor;
    }
  }
  throw new ModelError(
    "MODEL_INPUT",
    `vocabulary ${vocabSize} cannot be GPT-NeoX's padding of a ${tokenizerSize}-token tokenizer with model parallelism ${modelParallel}; choose a model parallelism that divides ${vocabSize}`,
  );
}

/**
 * Writes a Hugging Face checkpoint as a GPT-NeoX (DeepSpeed) save folder: `latest`,
 * `global_stepN/` with torch.save files split over `modelParallel` ranks in the chosen layout (the
 * inverse of `importNeoxCheckpoint` and of EleutherAI's converter), `global_stepN/configs/neox.yml`
 * and `neox.yml` (the model keys; merge them with the training keys of `pythia-train
 * --export-neox-config`). Yields an event per file.
 */
export async function* exportNeoxCheckpointIter(
  params: ExportNeoxCheckpointParams,
): AsyncGenerator<ExportNeoxEvent, ExportNeoxResult> {
  const modelParallel = params.modelParallel ?? 1;
  const layout = params.layout ?? "pipeline";
  const step = params.step ?? 0;
  const naming = params.mlpNaming ?? "legacy";
  if (!Number.isSafeInteger(modelParallel) || modelParallel < 1) {
    throw new ModelError("MODEL_INPUT", `modelParallel ${modelParallel} is not a positive integer`);
  }
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new ModelError("MODEL_INPUT", `step ${step} is not a non-negative integer`);
  }
  if (existsSync(params.out) && params.overwrite !== true) {
    throw new ModelError(
      "IO",
      `${params.out} already exists; choose a new directory or pass overwrite: true`,
    );
  }
  const configPath = join(params.checkpoint, "config.json");
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(configPath, "utf8"));
  } catch (error) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${configPath}: cannot read it as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const config = fromHfConfig(json, configPath);
  if (config.numHeads % modelParallel !== 0) {
    throw new ModelError(
      "MODEL_INPUT",
      `${config.numHeads} attention heads do not split into ${modelParallel} model-parallel ranks`,
    );
  }
  const divisor = neoxVocabDivisor(config.vocabSize, modelParallel);
  const { tensors } = await loadWeightTensors(params.checkpoint, { toFloat32: false });
  const source = params.checkpoint;
  const get = (name: string): Weight => weight(tensors, name, source);
  const dtypes = new Set([...tensors.values()].map((entry) => entry.dtype));

  // Per pipeline layer: per rank, the layer's state dict.
  const layers = new Map<number, Array<PickleOrderedDict<TorchTensorToSave>>>();
  const put = (layer: number, name: string, parts: Weight[]): void => {
    let ranks = layers.get(layer);
    if (ranks === undefined) {
      ranks = Array.from({ length: modelParallel }, () => new PickleOrderedDict<TorchTensorToSave>());
      layers.set(layer, ranks);
    }
    parts.forEach((part, rank) => ranks[rank]?.set(name, toSave(part)));
  };
  put(
    neoxLayerIndex.embedding,
    "word_embeddings.weight",
    splitRows(get("gpt_neox.embed_in.weight"), modelParallel, "gpt_neox.embed_in.weight"),
  );
  const keys = NEOX_BLOCK_KEYS[naming];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const index = neoxLayerIndex.block(layer);
    const hf = (name: string): string => `gpt_neox.layers.${layer}.${name}`;
    // GPT-NeoX's own order within a block: norms, attention, MLP.
    const order: Array<[string, string, (w: Weight) => Weight[]]> = [];
    for (const [neox, name] of Object.entries(keys.norms)) {
      order.push([neox, name, (w) => replicate(w, modelParallel)]);
    }
    for (const [neox, name] of Object.entries(keys.columnParallel)) {
      order.push([neox, name, (w) => splitRows(w, modelParallel, hf(name))]);
    }
    for (const [neox, name] of Object.entries(keys.rowParallelWeights)) {
      order.push([neox, name, (w) => splitColumns(w, modelParallel, hf(name))]);
    }
    for (const [neox, name] of Object.entries(keys.rowParallelBiases)) {
      order.push([neox, name, (w) => splitSummed(w, modelParallel)]);
    }
    order.sort(([a], [b]) => blockRank(a) - blockRank(b) || (a < b ? -1 : 1));
    for (const [neox, name, split] of order) {
      put(index, neox, split(get(hf(name))));
    }
  }
  put(
    neoxLayerIndex.finalNorm(config.numLayers),
    "norm.weight",
    replicate(get("gpt_neox.final_layer_norm.weight"), modelParallel),
  );
  put(
    neoxLayerIndex.finalNorm(config.numLayers),
    "norm.bias",
    replicate(get("gpt_neox.final_layer_norm.bias"), modelParallel),
  );
  if (!config.tieWordEmbeddings) {
    put(
      neoxLayerIndex.finalLinear(config.numLayers),
      "final_linear.weight",
      splitRows(get("embed_out.weight"), modelParallel, "embed_out.weight"),
    );
  }

  const neoxYaml: Record<string, unknown> = {
    ...(parseYaml(toNeoxYaml(config)) as Record<string, unknown>),
    "pipe-parallel-size": layout === "pipeline" ? 1 : 0,
    "model-parallel-size": modelParallel,
    "make-vocab-size-divisible-by": divisor,
    "tokenizer-type": "HFTokenizer",
    "vocab-file": "20B_tokenizer.json",
    fp16: { enabled: dtypes.has("F16") },
    ...(dtypes.has("BF16") ? { bf16: { enabled: true } } : {}),
  };
  const yaml = stringifyYaml(neoxYaml);
  const tag = `global_step${step}`;
  const args = new Map<string, unknown>([
    ["num_layers", config.numLayers],
    ["hidden_size", config.hiddenSize],
    ["num_attention_heads", config.numHeads],
    ["max_position_embeddings", config.maxPositionEmbeddings],
    ["make_vocab_size_divisible_by", divisor],
    ["padded_vocab_size", config.vocabSize],
    ["tokenizer_type", "HFTokenizer"],
    ["model_parallel_size", modelParallel],
  ]);
  const rankState = (rank: number, module: unknown): Map<string, unknown> =>
    new Map<string, unknown>([
      ["module", module],
      ["dp_world_size", 1],
      ["mp_world_size", modelParallel],
      ["global_steps", step],
      ["iteration", step],
      ["ds_version", "0.3.15"],
      ["args", args],
      ["mp_rank", rank],
    ]);

  const parent = dirname(params.out);
  await mkdir(parent, { recursive: true });
  const temporary = join(
    parent,
    `.${basename(params.out)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const stepDir = join(temporary, tag);
  await mkdir(join(stepDir, "configs"), { recursive: true });
  try {
    const files: Array<[string, unknown]> = [];
    if (layout === "pipeline") {
      for (const [layer, ranks] of [...layers].sort(([a], [b]) => a - b)) {
        ranks.forEach((state, rank) => files.push([neoxLayerFileName(layer, rank), state]));
      }
      for (let rank = 0; rank < modelParallel; rank++) {
        files.push([neoxRankFileName(rank), rankState(rank, null)]);
      }
    } else {
      for (let rank = 0; rank < modelParallel; rank++) {
        const module = new PickleOrderedDict<TorchTensorToSave>();
        for (const [layer, ranks] of [...layers].sort(([a], [b]) => a - b)) {
          for (const [name, tensor] of ranks[rank] ?? []) {
            module.set(`sequential.${layer}.${name}`, tensor);
          }
        }
        files.push([neoxRankFileName(rank), rankState(rank, module)]);
      }
    }
    for (const [done, [name, value]] of files.entries()) {
      await writeTorchCheckpoint(join(stepDir, name), value);
      yield { type: "file-written", file: join(params.out, tag, name), done: done + 1, total: files.length };
    }
    await writeFile(join(stepDir, "configs", "neox.yml"), yaml);
    await writeFile(join(temporary, "neox.yml"), yaml);
    await writeFile(join(temporary, "latest"), tag);
    if (existsSync(params.out)) {
      await rm(params.out, { recursive: true, force: true });
    }
    renameDurable(temporary, params.out);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  yield { type: "written", dir: params.out };
  return { dir: params.out, tag, yaml, config };
}

function blockRank(name: string): number {
  return name.startsWith("input_layernorm")
    ? 0
    : name.startsWith("post_attention_layernorm")
      ? 1
      : name.startsWith("attention.query_key_value")
        ? 2
        : name.startsWith("attention.dense")
          ? 3
          : name.includes("h_to_4h") || name.includes("linear1")
            ? 4
            : 5;
}

/** {@link exportNeoxCheckpointIter} drained. */
export function exportNeoxCheckpoint(
  params: ExportNeoxCheckpointParams,
  onEvent?: (event: ExportNeoxEvent) => void,
): Promise<ExportNeoxResult> {
  return drain(exportNeoxCheckpointIter(params), onEvent);
}
