import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { drain, renameDurable } from "@pythia/core";
import {
  openTorchCheckpoint,
  type TorchCheckpoint,
  type TorchTensor,
  type TorchTensorData,
} from "@pythia/torch-checkpoint";
import { fromNeoxYaml, toHfConfig } from "./config-convert.js";
import { parseConfig, type GPTNeoXConfig } from "./config.js";
import { writeTokenizerFiles } from "./checkpoint.js";
import { ModelError } from "./model-errors.js";
import {
  locateNeoxCheckpoint,
  NEOX_BLOCK_KEYS,
  neoxLayerFileName,
  neoxLayerIndex,
  neoxRankFileName,
  readNeoxCheckpointConfig,
  type NeoxLayout,
  type NeoxMlpNaming,
} from "./neox-checkpoint-layout.js";
import { writeShardedSafetensors, type TensorEntry } from "./safetensors.js";

/** Parameters of {@link importNeoxCheckpoint}. */
export interface ImportNeoxCheckpointParams {
  /** A GPT-NeoX save folder (with `latest`) or one `global_stepN` folder. */
  checkpoint: string;
  /** The Hugging Face folder to write; must not exist unless `overwrite`. */
  out: string;
  /** The run's YAML; default: found next to the checkpoint (see `readNeoxCheckpointConfig`). */
  config?: string;
  /**
   * Stored dtype: `"auto"` (default) as the converter's `--precision auto`: F16 when the YAML enables
   * `fp16`, else BF16 when it has `bf16`, else F32.
   */
  dtype?: "auto" | "F32" | "F16" | "BF16";
  /** Copy the GPT-NeoX-20B tokenizer files next to the weights. @default true */
  includeTokenizer?: boolean;
  /** Replace an existing `out`. @default false */
  overwrite?: boolean;
  /** Split `model.safetensors` into shards of at most this many bytes. @default 5 GB */
  maxShardBytes?: number;
}

/** Progress of {@link importNeoxCheckpointIter}. */
export type ImportNeoxEvent =
  | { type: "located"; stepDir: string; layout: NeoxLayout; modelParallel: number; configFiles: string[] }
  | { type: "layer-merged"; name: string; done: number; total: number }
  | { type: "written"; dir: string; files: string[] };

/** What an import wrote. */
export interface ImportNeoxResult {
  dir: string;
  config: GPTNeoXConfig;
  layout: NeoxLayout;
  modelParallel: number;
  mlpNaming: NeoxMlpNaming;
  /** The HF state dict that was written (float32 unless a 16-bit dtype was chosen). */
  tensors: Map<string, TensorEntry>;
}

type Dtype = "F32" | "F16" | "BF16";

// ---------------------------------------------------------------------------------------------------
// Merging across model-parallel ranks, bit-exactly as torch computes it in the converter: `cat` is
// exact; `sum(list)` is `((0 + t0) + t1) + …` with each addition rounded to the tensors' dtype, and
// the LayerNorm average divides that sum by the rank count, rounded again.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function roundTo(dtype: Dtype, value: number): number {
  if (dtype === "F32") {
    return Math.fround(value);
  }
  f32[0] = value;
  if (dtype === "BF16") {
    const w = u32[0] as number;
    if ((w & 0x7f800000) === 0x7f800000 && (w & 0x7fffff) !== 0) {
      return value;
    }
    u32[0] = ((w + 0x7fff + ((w >>> 16) & 1)) >>> 0) & 0xffff0000;
    return f32[0] as number;
  }
  return float16Round(f32[0] as number);
}

function float16Round(x: number): number {
  if (!Number.isFinite(x) || x === 0) {
    return x;
  }
  const abs = Math.abs(x);
  if (abs >= 65520) {
    return Math.sign(x) * Infinity;
  }
  const quantum = 2 ** (Math.max(Math.floor(Math.log2(abs)), -14) - 10);
  const scaled = abs / quantum;
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  const q = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return Math.sign(x) * q * quantum;
}

interface Part {
  dtype: Dtype;
  shape: number[];
  /** Float32 values (exact for 16-bit inputs). */
  values: Float32Array;
}

function concat(parts: readonly Part[], dim: 0 | 1, name: string): Part {
  const first = parts[0] as Part;
  if (parts.length === 1) {
    return first;
  }
  for (const part of parts) {
    if (
      part.shape.length !== first.shape.length ||
      part.shape.some((size, i) => i !== dim && size !== first.shape[i])
    ) {
      throw new ModelError(
        "CHECKPOINT_FORMAT",
        `${name}: model-parallel shards have shapes that do not concatenate on dim ${dim}`,
      );
    }
  }
  if (dim === 0) {
    const values = new Float32Array(parts.reduce((total, part) => total + part.values.length, 0));
    let at = 0;
    for (const part of parts) {
      values.set(part.values, at);
      at += part.values.length;
    }
    return {
      dtype: first.dtype,
      shape: [parts.reduce((total, part) => total + (part.shape[0] as number), 0), ...first.shape.slice(1)],
      values,
    };
  }
  const rows = first.shape[0] as number;
  const width = parts.reduce((total, part) => total + (part.shape[1] as number), 0);
  const values = new Float32Array(rows * width);
  for (let row = 0; row < rows; row++) {
    let at = row * width;
    for (const part of parts) {
      const columns = part.shape[1] as number;
      values.set(part.values.subarray(row * columns, (row + 1) * columns), at);
      at += columns;
    }
  }
  return { dtype: first.dtype, shape: [rows, width], values };
}

function sum(parts: readonly Part[], name: string, divide: boolean): Part {
  const first = parts[0] as Part;
  for (const part of parts) {
    if (part.values.length !== first.values.length) {
      throw new ModelError("CHECKPOINT_FORMAT", `${name}: model-parallel copies have different sizes`);
    }
  }
  if (parts.length === 1) {
    return first;
  }
  const values = new Float32Array(first.values);
  for (const part of parts.slice(1)) {
    for (let i = 0; i < values.length; i++) {
      values[i] = roundTo(first.dtype, (values[i] as number) + (part.values[i] as number));
    }
  }
  if (divide) {
    for (let i = 0; i < values.length; i++) {
      values[i] = roundTo(first.dtype, (values[i] as number) / parts.length);
    }
  }
  return { dtype: first.dtype, shape: first.shape, values };
}

// ---------------------------------------------------------------------------------------------------

async function readPart(
  checkpoint: TorchCheckpoint,
  tensor: TorchTensor | undefined,
  name: string,
): Promise<Part> {
  if (tensor === undefined) {
    throw new ModelError(
      "CHECKPOINT_FORMAT",
      `${checkpoint.file}: no tensor ${name}; the checkpoint is not a GPT-NeoX model or is incomplete`,
    );
  }
  const data: TorchTensorData = await checkpoint.read(tensor, { toFloat32: true });
  if (
    !(data.data instanceof Float32Array) ||
    (tensor.dtype !== "F32" && tensor.dtype !== "F16" && tensor.dtype !== "BF16")
  ) {
    throw new ModelError(
      "CHECKPOINT_FORMAT",
      `${checkpoint.file}: ${name} is ${tensor.dtype}, not a float16/bfloat16/float32 weight`,
    );
  }
  return { dtype: tensor.dtype, shape: data.shape, values: data.data };
}

/** Opened rank files of one pipeline layer (or of the whole model, sequential layout). */
interface RankStates {
  checkpoints: TorchCheckpoint[];
  /** Per rank: tensors by their name within the layer. */
  tensors: Array<Map<string, TorchTensor>>;
}

async function openRanks(paths: readonly string[], prefix: string | null): Promise<RankStates> {
  const checkpoints: TorchCheckpoint[] = [];
  try {
    for (const path of paths) {
      // mp_rank files carry DeepSpeed's training state (argparse Namespaces, optimizer classes…):
      // keep their tensors and leave everything else as placeholders that are never called.
      checkpoints.push(
        await openTorchCheckpoint(path, { unknownGlobals: prefix === null ? "refuse" : "skip" }),
      );
    }
  } catch (error) {
    await Promise.all(checkpoints.map((checkpoint) => checkpoint.close()));
    throw error;
  }
  const tensors = checkpoints.map((checkpoint) => {
    if (prefix === null) {
      return checkpoint.tensors();
    }
    const module = checkpoint.root instanceof Map ? checkpoint.root.get("module") : undefined;
    if (!(module instanceof Map)) {
      throw new ModelError(
        "CHECKPOINT_FORMAT",
        `${checkpoint.file}: "module" holds no state dict; this is the training state of a pipeline-layout checkpoint, whose weights are in the layer_XX-model_YY files`,
      );
    }
    return checkpoint.tensors(module);
  });
  return { checkpoints, tensors };
}

async function closeRanks(states: RankStates): Promise<void> {
  await Promise.all(states.checkpoints.map((checkpoint) => checkpoint.close()));
}

function resolveDtype(requested: ImportNeoxCheckpointParams["dtype"], yaml: Record<string, unknown>): Dtype {
  if (requested !== undefined && requested !== "auto") {
    return requested;
  }
  const fp16 = yaml.fp16;
  if (typeof fp16 === "object" && fp16 !== null && (fp16 as { enabled?: unknown }).enabled === true) {
    return "F16";
  }
  const bf16 = yaml.bf16;
  if (
    bf16 !== undefined &&
    bf16 !== null &&
    bf16 !== false &&
    !(typeof bf16 === "object" && (bf16 as { enabled?: unknown }).enabled === false)
  ) {
    return "BF16";
  }
  return "F32";
}

/**
 * Converts a GPT-NeoX checkpoint into a Hugging Face folder, merging model-parallel ranks exactly
 * as EleutherAI's `tools/ckpts/convert_neox_to_hf.py` does (see `neox-checkpoint-layout.ts`), one
 * layer at a time. Yields progress events; returns what was written.
 */
export async function* importNeoxCheckpointIter(
  params: ImportNeoxCheckpointParams,
): AsyncGenerator<ImportNeoxEvent, ImportNeoxResult> {
  if (existsSync(params.out) && params.overwrite !== true) {
    throw new ModelError(
      "IO",
      `${params.out} already exists; choose a new directory or pass overwrite: true`,
    );
  }
  const location = await locateNeoxCheckpoint(params.checkpoint);
  const { yaml, files: configFiles } = await readNeoxCheckpointConfig(location, params.config);
  yield {
    type: "located",
    stepDir: location.stepDir,
    layout: location.layout,
    modelParallel: location.modelParallel,
    configFiles,
  };
  const numLayers = yaml["num-layers"];
  if (typeof numLayers !== "number" || !Number.isSafeInteger(numLayers) || numLayers < 1) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${configFiles.join(", ")}: num-layers is missing or not a positive integer`,
    );
  }
  const declared = yaml["model-parallel-size"];
  if (declared !== undefined && declared !== location.modelParallel) {
    throw new ModelError(
      "CHECKPOINT_FORMAT",
      `${location.stepDir}: the files hold ${location.modelParallel} model-parallel rank(s) but model-parallel-size is ${String(declared)}; pass the YAML this checkpoint was trained with`,
    );
  }
  const tied = yaml["no-weight-tying"] !== true;
  const ranks = Array.from({ length: location.modelParallel }, (_, rank) => rank);
  const outDtype = resolveDtype(params.dtype, yaml);
  const merged = new Map<string, Part>();
  let sequential: RankStates | null = null;
  if (location.layout === "sequential") {
    sequential = await openRanks(
      ranks.map((rank) => join(location.stepDir, neoxRankFileName(rank))),
      "module",
    );
  }
  const total = numLayers + (tied ? 2 : 3);
  let done = 0;
  const withLayer = async <T>(
    layer: number,
    use: (states: RankStates, key: (name: string) => string) => Promise<T>,
  ): Promise<T> => {
    if (sequential !== null) {
      return use(sequential, (name) => `sequential.${layer}.${name}`);
    }
    const states = await openRanks(
      ranks.map((rank) => join(location.stepDir, neoxLayerFileName(layer, rank))),
      null,
    );
    try {
      return await use(states, (name) => name);
    } finally {
      await closeRanks(states);
    }
  };
  const gather = async (states: RankStates, key: string): Promise<Part[]> => {
    const parts: Part[] = [];
    for (const [rank, checkpoint] of states.checkpoints.entries()) {
      parts.push(await readPart(checkpoint, states.tensors[rank]?.get(key), key));
    }
    return parts;
  };
  let naming: NeoxMlpNaming = "legacy";
  try {
    await withLayer(neoxLayerIndex.embedding, async (states, key) => {
      merged.set(
        "gpt_neox.embed_in.weight",
        concat(await gather(states, key("word_embeddings.weight")), 0, "word_embeddings.weight"),
      );
    });
    yield { type: "layer-merged", name: "embedding", done: ++done, total };
    for (let layer = 0; layer < numLayers; layer++) {
      await withLayer(neoxLayerIndex.block(layer), async (states, key) => {
        const present = states.tensors[0] ?? new Map<string, TorchTensor>();
        naming = present.has(key("mlp.linear1.weight")) ? "new" : "legacy";
        const keys = NEOX_BLOCK_KEYS[naming];
        const prefix = `gpt_neox.layers.${layer}.`;
        for (const [neox, hf] of Object.entries(keys.rowParallelWeights)) {
          merged.set(prefix + hf, concat(await gather(states, key(neox)), 1, key(neox)));
        }
        for (const [neox, hf] of Object.entries(keys.norms)) {
          merged.set(prefix + hf, sum(await gather(states, key(neox)), key(neox), true));
        }
        for (const [neox, hf] of Object.entries(keys.columnParallel)) {
          merged.set(prefix + hf, concat(await gather(states, key(neox)), 0, key(neox)));
        }
        for (const [neox, hf] of Object.entries(keys.rowParallelBiases)) {
          merged.set(prefix + hf, sum(await gather(states, key(neox)), key(neox), false));
        }
      });
      yield { type: "layer-merged", name: `layer ${layer}`, done: ++done, total };
    }
    await withLayer(neoxLayerIndex.finalNorm(numLayers), async (states, key) => {
      merged.set(
        "gpt_neox.final_layer_norm.weight",
        sum(await gather(states, key("norm.weight")), "norm.weight", true),
      );
      merged.set(
        "gpt_neox.final_layer_norm.bias",
        sum(await gather(states, key("norm.bias")), "norm.bias", true),
      );
    });
    yield { type: "layer-merged", name: "final norm", done: ++done, total };
    if (!tied) {
      await withLayer(neoxLayerIndex.finalLinear(numLayers), async (states, key) => {
        merged.set(
          "embed_out.weight",
          concat(await gather(states, key("final_linear.weight")), 0, "final_linear.weight"),
        );
      });
      yield { type: "layer-merged", name: "final linear", done: ++done, total };
    }
  } finally {
    if (sequential !== null) {
      await closeRanks(sequential);
    }
  }

  const embed = merged.get("gpt_neox.embed_in.weight") as Part;
  const h4h = merged.get("gpt_neox.layers.0.mlp.dense_h_to_4h.weight") as Part;
  const fromYaml = fromNeoxYaml({ yaml, tokenizerVocabSize: embed.shape[0], source: configFiles.join(", ") });
  // Like the converter: the vocabulary is the merged embedding's rows, the MLP width its weight's,
  // and HF's exact GELU (the converter never sets hidden_act).
  const config = parseConfig(
    { ...fromYaml, vocabSize: embed.shape[0], intermediateSize: h4h.shape[0], gelu: "erf" },
    configFiles.join(", "),
  );
  const tensors = new Map<string, TensorEntry>();
  for (const [name, part] of [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    tensors.set(name, { dtype: "F32", shape: part.shape, data: part.values });
  }
  const files = await writeFolder(params, config, tensors, outDtype);
  yield { type: "written", dir: params.out, files };
  return {
    dir: params.out,
    config,
    layout: location.layout,
    modelParallel: location.modelParallel,
    mlpNaming: naming,
    tensors,
  };
}

async function writeFolder(
  params: ImportNeoxCheckpointParams,
  config: GPTNeoXConfig,
  tensors: Map<string, TensorEntry>,
  dtype: Dtype,
): Promise<string[]> {
  mkdirSync(dirname(params.out), { recursive: true });
  const temporary = join(
    dirname(params.out),
    `.${basename(params.out)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  mkdirSync(temporary);
  try {
    const written = await writeShardedSafetensors(temporary, tensors, {
      dtype,
      metadata: { format: "pt" },
      maxShardBytes: params.maxShardBytes,
    });
    const torchDtype = ({ F32: "float32", F16: "float16", BF16: "bfloat16" } as const)[dtype];
    writeFileSync(
      join(temporary, "config.json"),
      `${JSON.stringify(toHfConfig(config, { torchDtype }), null, 2)}\n`,
    );
    const files = [...written.files, "config.json"];
    if (params.includeTokenizer ?? true) {
      writeTokenizerFiles(temporary);
      files.push("tokenizer.json", "special_tokens_map.json", "tokenizer_config.json");
    }
    if (existsSync(params.out)) {
      rmSync(params.out, { recursive: true, force: true });
    }
    renameDurable(temporary, params.out);
    return files;
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** {@link importNeoxCheckpointIter} drained: converts and returns what was written. */
export function importNeoxCheckpoint(
  params: ImportNeoxCheckpointParams,
  onEvent?: (event: ImportNeoxEvent) => void,
): Promise<ImportNeoxResult> {
  return drain(importNeoxCheckpointIter(params), onEvent);
}
