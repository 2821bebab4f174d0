import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  openTorchCheckpoint,
  type ReadTorchStateDictOptions,
  type TorchCheckpoint,
} from "./torch-checkpoint.js";
import { checkpointError } from "./torch-checkpoint-error.js";
import type { ReadTorchTensorOptions, TorchTensor, TorchTensorData } from "./torch-tensor.js";

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

/** Options of {@link openTorchCheckpointFolder}. */
export interface OpenTorchCheckpointFolderOptions extends ReadTorchStateDictOptions {
  /** Called with each file (the index, then every shard) just before it is opened. */
  beforeOpen?: (file: string) => void | Promise<void>;
}

/**
 * The PyTorch weights of a Hugging Face folder, opened: every tensor's name, dtype and shape (from the
 * pickles, no tensor data read) and positional reads. Close it when done.
 */
export interface OpenedTorchCheckpointFolder {
  /** Tensor name → description, over every shard (each name from the shard the index assigns it). */
  tensors: Map<string, TorchTensor>;
  /** The weight files, as paths. */
  files: string[];
  /** Reads one tensor's elements. */
  read(name: string, options?: ReadTorchTensorOptions): Promise<TorchTensorData>;
  /** Closes every file. */
  close(): Promise<void>;
}

/**
 * Opens the PyTorch weights of a Hugging Face folder: `pytorch_model.bin`, else every shard listed by
 * `pytorch_model.bin.index.json`; null when the folder has neither. Throws when a shard is missing,
 * when a tensor the index lists (and `names` keeps) is not in its shard, or when two shards hold one name.
 */
export async function openTorchCheckpointFolder(
  dir: string,
  options: OpenTorchCheckpointFolderOptions = {},
): Promise<OpenedTorchCheckpointFolder | null> {
  const single = join(dir, TORCH_SINGLE_FILE);
  const indexFile = join(dir, TORCH_INDEX_FILE);
  let shards: Array<{ shard: string; file: string; keep: (name: string) => boolean }>;
  let weightMap: Map<string, string> | null = null;
  if (await isFile(single)) {
    shards = [{ shard: TORCH_SINGLE_FILE, file: single, keep: () => true }];
  } else {
    if (!(await isFile(indexFile))) {
      return null;
    }
    await options.beforeOpen?.(indexFile);
    const index = await readTorchShardedIndex(dir);
    if (index === null) {
      return null;
    }
    weightMap = index.weightMap;
    shards = index.shards.map((shard) => ({
      shard,
      file: join(dir, shard),
      keep: (name: string) => index.weightMap.get(name) === shard,
    }));
  }
  const opened: TorchCheckpoint[] = [];
  const close = async () => {
    for (const checkpoint of opened) {
      await checkpoint.close();
    }
  };
  try {
    const owner = new Map<string, { shard: string; checkpoint: TorchCheckpoint }>();
    const tensors = new Map<string, TorchTensor>();
    for (const { shard, file, keep } of shards) {
      if (!(await isFile(file))) {
        throw checkpointError(
          "TORCH_FORMAT",
          indexFile,
          "weight_map",
          `shard ${JSON.stringify(shard)} does not exist`,
          "download every shard the index lists",
        );
      }
      await options.beforeOpen?.(file);
      const checkpoint = await openTorchCheckpoint(file, options);
      opened.push(checkpoint);
      for (const [name, tensor] of checkpoint.tensors()) {
        if (!keep(name)) {
          continue;
        }
        const other = owner.get(name);
        if (other !== undefined) {
          throw checkpointError(
            "TORCH_FORMAT",
            dir,
            JSON.stringify(name),
            `is stored in both ${other.shard} and ${shard}`,
            "download the checkpoint again",
          );
        }
        owner.set(name, { shard, checkpoint });
        tensors.set(name, tensor);
      }
    }
    for (const [name, shard] of weightMap ?? []) {
      if (owner.get(name)?.shard !== shard && (options.names?.(name) ?? true)) {
        throw checkpointError(
          "TORCH_FORMAT",
          indexFile,
          `weight_map[${JSON.stringify(name)}]`,
          `shard ${JSON.stringify(shard)} has no tensor ${JSON.stringify(name)}`,
          "the index and the shards come from different saves; download the checkpoint again",
        );
      }
    }
    return {
      tensors,
      files: shards.map(({ file }) => file),
      read: (name, readOptions = options) => {
        const found = owner.get(name);
        const tensor = tensors.get(name);
        if (found === undefined || tensor === undefined) {
          throw checkpointError(
            "TORCH_FORMAT",
            dir,
            JSON.stringify(name),
            "no such tensor",
            "read a name from `tensors`",
          );
        }
        return found.checkpoint.read(tensor, readOptions);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** What {@link readTorchCheckpointFolder} returns. */
export interface TorchCheckpointFolder {
  tensors: Map<string, TorchTensorData>;
  /** The files read, as paths. */
  files: string[];
}

/**
 * Reads the PyTorch weights of a Hugging Face folder (see {@link openTorchCheckpointFolder}): every
 * tensor `names` keeps, by name. Returns null when the folder has neither file nor index.
 */
export async function readTorchCheckpointFolder(
  dir: string,
  options: ReadTorchStateDictOptions = {},
): Promise<TorchCheckpointFolder | null> {
  const folder = await openTorchCheckpointFolder(dir, options);
  if (folder === null) {
    return null;
  }
  try {
    const tensors = new Map<string, TorchTensorData>();
    for (const name of folder.tensors.keys()) {
      if (options.names?.(name) ?? true) {
        tensors.set(name, await folder.read(name, options));
      }
    }
    return { tensors, files: folder.files };
  } finally {
    await folder.close();
  }
}
