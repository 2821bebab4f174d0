import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ModelError } from "./model-errors.js";

// A GPT-NeoX (DeepSpeed) save folder:
//   <save>/latest                      the tag of the newest checkpoint ("global_step143000")
//   <save>/global_stepN/               one checkpoint
//     layer_XX-model_YY-model_states.pt  pipeline layout (pipe-parallel-size ≥ 1): pipeline layer XX
//                                        of model-parallel rank YY, an OrderedDict of its tensors
//     mp_rank_YY_model_states.pt         DeepSpeed state of rank YY: {"module": state dict or None,
//                                        "dp_world_size", "mp_world_size", "global_steps", "args", …}
//                                        In the sequential layout (pipe-parallel-size 0) "module"
//                                        holds every tensor as `sequential.{layer}.{name}`.
//     configs/*.yml                      the YAML files the run was started with
// Pipeline layer indices: 0 the embedding, 1 a no-op, block i is i + 2, then a no-op, the final
// norm at num_layers + 3 and `final_linear` at num_layers + 4 (EleutherAI's
// tools/ckpts/convert_neox_to_hf.py).

/** The two ways DeepSpeed lays out a GPT-NeoX checkpoint. */
export type NeoxLayout = "pipeline" | "sequential";

/** The two spellings of the MLP in GPT-NeoX state dicts. */
export type NeoxMlpNaming = "legacy" | "new";

/** Parameter names inside a transformer block, per MLP naming, with their HF names. */
export const NEOX_BLOCK_KEYS: Readonly<
  Record<
    NeoxMlpNaming,
    {
      /** Concatenated across model-parallel ranks on dim 0. */
      columnParallel: Readonly<Record<string, string>>;
      /** Weights concatenated on dim 1. */
      rowParallelWeights: Readonly<Record<string, string>>;
      /** Biases summed across ranks. */
      rowParallelBiases: Readonly<Record<string, string>>;
      /** LayerNorms, averaged across ranks. */
      norms: Readonly<Record<string, string>>;
    }
  >
> = {
  legacy: {
    columnParallel: {
      "mlp.dense_h_to_4h.weight": "mlp.dense_h_to_4h.weight",
      "mlp.dense_h_to_4h.bias": "mlp.dense_h_to_4h.bias",
      "attention.query_key_value.weight": "attention.query_key_value.weight",
      "attention.query_key_value.bias": "attention.query_key_value.bias",
    },
    rowParallelWeights: {
      "attention.dense.weight": "attention.dense.weight",
      "mlp.dense_4h_to_h.weight": "mlp.dense_4h_to_h.weight",
    },
    rowParallelBiases: {
      "mlp.dense_4h_to_h.bias": "mlp.dense_4h_to_h.bias",
      "attention.dense.bias": "attention.dense.bias",
    },
    norms: {
      "input_layernorm.weight": "input_layernorm.weight",
      "input_layernorm.bias": "input_layernorm.bias",
      "post_attention_layernorm.weight": "post_attention_layernorm.weight",
      "post_attention_layernorm.bias": "post_attention_layernorm.bias",
    },
  },
  new: {
    columnParallel: {
      "mlp.linear1.weight": "mlp.dense_h_to_4h.weight",
      "mlp.linear1.bias": "mlp.dense_h_to_4h.bias",
      "attention.query_key_value.weight": "attention.query_key_value.weight",
      "attention.query_key_value.bias": "attention.query_key_value.bias",
    },
    rowParallelWeights: {
      "attention.dense.weight": "attention.dense.weight",
      "mlp.linear2.weight": "mlp.dense_4h_to_h.weight",
    },
    rowParallelBiases: {
      "mlp.linear2.bias": "mlp.dense_4h_to_h.bias",
      "attention.dense.bias": "attention.dense.bias",
    },
    norms: {
      "input_layernorm.weight": "input_layernorm.weight",
      "input_layernorm.bias": "input_layernorm.bias",
      "post_attention_layernorm.weight": "post_attention_layernorm.weight",
      "post_attention_layernorm.bias": "post_attention_layernorm.bias",
    },
  },
};

/** Pipeline layer index of the embedding, of block `i`, of the final norm and of `final_linear`. */
export const neoxLayerIndex = {
  embedding: 0,
  block: (layer: number): number => layer + 2,
  finalNorm: (numLayers: number): number => numLayers + 3,
  finalLinear: (numLayers: number): number => numLayers + 4,
};

const pad2 = (value: number): string => String(value).padStart(2, "0");

/** `layer_XX-model_YY-model_states.pt`. */
export function neoxLayerFileName(layer: number, rank: number): string {
  return `layer_${pad2(layer)}-model_${pad2(rank)}-model_states.pt`;
}

/** `mp_rank_YY_model_states.pt`. */
export function neoxRankFileName(rank: number): string {
  return `mp_rank_${pad2(rank)}_model_states.pt`;
}

const LAYER_FILE = /^layer_(\d+)-model_(\d+)-model_states\.pt$/;
const RANK_FILE = /^mp_rank_(\d+)_model_states\.pt$/;

/** What {@link locateNeoxCheckpoint} found. */
export interface NeoxCheckpointLocation {
  /** The `global_stepN` folder. */
  stepDir: string;
  /** N, or null when the folder name does not say. */
  step: number | null;
  layout: NeoxLayout;
  /** Model-parallel ranks (files per layer, or mp_rank files). */
  modelParallel: number;
  /** Pipeline layer indices with files (pipeline layout), sorted. */
  layers: number[];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function checkpointError(where: string, what: string, fix: string): ModelError {
  return new ModelError("CHECKPOINT_FORMAT", `${where}: ${what}; ${fix}`);
}

/**
 * Finds the checkpoint in a GPT-NeoX save folder (`latest` names the tag) or a `global_stepN`
 * folder itself, and tells its layout and model parallelism from the file names.
 */
export async function locateNeoxCheckpoint(dir: string): Promise<NeoxCheckpointLocation> {
  let stepDir = dir;
  const latest = join(dir, "latest");
  if (await isFile(latest)) {
    const tag = (await readFile(latest, "utf8")).trim();
    if (tag === "" || /[/\\]/.test(tag)) {
      throw checkpointError(
        latest,
        `names ${JSON.stringify(tag)}, not a checkpoint folder`,
        "write the tag (global_stepN) into it",
      );
    }
    stepDir = join(dir, tag);
  }
  let names: string[];
  try {
    names = await readdir(stepDir);
  } catch (error) {
    throw new ModelError(
      "IO",
      `${stepDir}: cannot list the checkpoint folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass a GPT-NeoX save folder (with latest) or a global_stepN folder`,
    );
  }
  const layerFiles = names.map((name) => LAYER_FILE.exec(name)).filter((match) => match !== null);
  const rankFiles = names.map((name) => RANK_FILE.exec(name)).filter((match) => match !== null);
  const stepMatch = /^global_step(\d+)$/.exec(basename(stepDir));
  const step = stepMatch === null ? null : Number(stepMatch[1]);
  if (layerFiles.length > 0) {
    const layers = [...new Set(layerFiles.map((match) => Number(match[1])))].sort((a, b) => a - b);
    const ranks = new Set(layerFiles.map((match) => Number(match[2])));
    const modelParallel = ranks.size;
    for (const layer of layers) {
      for (let rank = 0; rank < modelParallel; rank++) {
        if (!names.includes(neoxLayerFileName(layer, rank))) {
          throw checkpointError(
            stepDir,
            `${neoxLayerFileName(layer, rank)} is missing`,
            "copy every rank's layer files",
          );
        }
      }
    }
    return { stepDir, step, layout: "pipeline", modelParallel, layers };
  }
  if (rankFiles.length > 0) {
    const modelParallel = rankFiles.length;
    for (let rank = 0; rank < modelParallel; rank++) {
      if (!names.includes(neoxRankFileName(rank))) {
        throw checkpointError(
          stepDir,
          `${neoxRankFileName(rank)} is missing`,
          "copy every rank's mp_rank file",
        );
      }
    }
    return { stepDir, step, layout: "sequential", modelParallel, layers: [] };
  }
  throw checkpointError(
    stepDir,
    "no layer_XX-model_YY-model_states.pt or mp_rank_XX_model_states.pt files",
    "pass a GPT-NeoX save folder (with latest) or one global_stepN folder",
  );
}

/**
 * The GPT-NeoX YAML of a checkpoint: `configPath` if given, else every `.yml`/`.yaml` in
 * `global_stepN/configs/`, `global_stepN/`, the save folder, or its `configs/` (the first of those
 * that has any), merged in name order as GPT-NeoX merges its config files.
 */
export async function readNeoxCheckpointConfig(
  location: NeoxCheckpointLocation,
  configPath?: string,
): Promise<{ yaml: Record<string, unknown>; files: string[] }> {
  let files: string[] = [];
  if (configPath !== undefined) {
    files = [configPath];
  } else {
    const saveDir = dirname(location.stepDir);
    for (const candidate of [
      join(location.stepDir, "configs"),
      location.stepDir,
      saveDir,
      join(saveDir, "configs"),
    ]) {
      let names: string[] = [];
      try {
        names = (await readdir(candidate)).filter((name) => /\.ya?ml$/.test(name)).sort();
      } catch {
        continue;
      }
      if (names.length > 0) {
        files = names.map((name) => join(candidate, name));
        break;
      }
    }
    if (files.length === 0) {
      throw checkpointError(
        location.stepDir,
        "no GPT-NeoX YAML next to the checkpoint (configs/*.yml, *.yml in the folder or its parent)",
        "pass the run's YAML with --config",
      );
    }
  }
  const yaml: Record<string, unknown> = {};
  for (const file of files) {
    let parsed: unknown;
    try {
      parsed = parseYaml(await readFile(file, "utf8"));
    } catch (error) {
      throw new ModelError("CONFIG_FORMAT", `${file}: cannot read it as YAML (${(error as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ModelError("CONFIG_FORMAT", `${file}: expected a mapping of GPT-NeoX arguments`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      // GPT-NeoX accepts both spellings (the converter looks up "-" first): keep the key as written
      // and its "-" spelling.
      yaml[key] = value;
      yaml[key.replace(/_/g, "-")] = value;
    }
  }
  return { yaml, files };
}
