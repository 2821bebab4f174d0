import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { readTorchStateDict, type ReadTorchStateDictOptions } from "./torch-checkpoint.js";
import { checkpointError } from "./torch-checkpoint-error.js";
import type { TorchTensorData } from "./torch-tensor.js";

/** File name of a single-file PyTorch checkpoint in a Hugging Face folder. */
export const TORCH_SINGLE_FILE = "pytorch_model.bin";

/** File name of the index of a sharded PyTorch checkpoint (`{"metadata", "weight_map"}`). */
export const TORCH_INDEX_FILE = "pytorch_model.bin.index.json";

/** A parsed `pytorch_model.bin.index.json`. */
export interface TorchShardedIndex {
  /** `metadata.total_size`, or null when absent. */
  totalSize: number | null;
  /** Tensor name → shard file name. */
  weightMap: Map<string, string>;
  /** The distinct shard file names, sorted. */
  shards: string[];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Reads and checks `pytorch_model.bin.index.json` in `dir`; null when the folder has none. */
export async function readTorchShardedIndex(dir: string): Promise<TorchShardedIndex | null> {
  const file = join(dir, TORCH_INDEX_FILE);
  if (!(await isFile(file))) {
    return null;
  }
  const fix =
    'download the index again (transformers writes {"metadata": {...}, "weight_map": {name: shard}})';
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw checkpointError("TORCH_FORMAT", file, "index", `not valid JSON (${(error as Error).message})`, fix);
  }
  const weightMapJson = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMapJson !== "object" || weightMapJson === null || Array.isArray(weightMapJson)) {
    throw checkpointError("TORCH_FORMAT", file, "weight_map", "missing or not an object", fix);
  }
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMapJson)) {
    if (typeof shard !== "string" || shard === "" || shard === "." || shard === ".." || /[/\\]/.test(shard)) {
      throw checkpointError(
        "TORCH_FORMAT",
        file,
        `weight_map[${JSON.stringify(name)}]`,
        `expected a shard file name in the same folder, got ${JSON.stringify(shard)}`,
        fix,
      );
    }
    weightMap.set(name, shard);
  }
  const totalSize = (json as { metadata?: { total_size?: unknown } }).metadata?.total_size;
  return {
    totalSize: typeof totalSize === "number" ? totalSize : null,
    weightMap,
    shards: [...new Set(weightMap.values())].sort(),
  };
}

/** What {@link readTorchCheckpointFolder} returns. */
export interface TorchCheckpointFolder {
  tensors: Map<string, TorchTensorData>;
  /** The files read, as paths. */
  files: string[];
}

/**
 * Reads the PyTorch weights of a Hugging Face folder: `pytorch_model.bin`, else every shard listed
 * by `pytorch_model.bin.index.json`. Returns null when the folder has neither. Throws when a shard
 * is missing, when a tensor the index lists is not in its shard, or when two shards hold one name.
 */
export async function readTorchCheckpointFolder(
  dir: string,
  options: ReadTorchStateDictOptions = {},
): Promise<TorchCheckpointFolder | null> {
  const single = join(dir, TORCH_SINGLE_FILE);
  if (await isFile(single)) {
    return { tensors: await readTorchStateDict(single, options), files: [single] };
  }
  const index = await readTorchShardedIndex(dir);
  if (index === null) {
    return null;
  }
  const indexFile = join(dir, TORCH_INDEX_FILE);
  const tensors = new Map<string, TorchTensorData>();
  const owner = new Map<string, string>();
  const files: string[] = [];
  for (const shard of index.shards) {
    const path = join(dir, shard);
    if (!(await isFile(path))) {
      throw checkpointError(
        "TORCH_FORMAT",
        indexFile,
        "weight_map",
        `shard ${JSON.stringify(shard)} does not exist`,
        "download every shard the index lists",
      );
    }
    const read = await readTorchStateDict(path, {
      ...options,
      names: (name) => index.weightMap.get(name) === shard && (options.names?.(name) ?? true),
    });
    for (const [name, tensor] of read) {
      const other = owner.get(name);
      if (other !== undefined) {
        throw checkpointError(
          "TORCH_FORMAT",
          dir,
          JSON.stringify(name),
          `is stored in both ${other} and ${shard}`,
          "download the checkpoint again",
        );
      }
      owner.set(name, shard);
      tensors.set(name, tensor);
    }
    files.push(path);
  }
  for (const [name, shard] of index.weightMap) {
    if (owner.get(name) !== shard && (options.names?.(name) ?? true)) {
      throw checkpointError(
        "TORCH_FORMAT",
        indexFile,
        `weight_map[${JSON.stringify(name)}]`,
        `shard ${JSON.stringify(shard)} has no tensor ${JSON.stringify(name)}`,
        "the index and the shards come from different saves; download the checkpoint again",
      );
    }
  }
  return { tensors, files };
}
