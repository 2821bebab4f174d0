import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  checkpointError,
  openTorchCheckpoint,
  readTorchShardedIndex,
  TORCH_INDEX_FILE,
  TORCH_SINGLE_FILE,
  type TorchCheckpoint,
  type TorchTensor,
  type TorchTensorData,
} from "@pythia/torch-checkpoint";
import { ModelError } from "./model-errors.js";
import {
  loadCheckpointTensors,
  SAFETENSORS_INDEX_FILE,
  SAFETENSORS_SINGLE_FILE,
  type CheckpointTensors,
  type LoadCheckpointTensorsOptions,
} from "./safetensors.js";

/** The weight files a Hugging Face folder may hold, in the order `loadWeightTensors` tries them. */
export const WEIGHT_FILES_IN_ORDER = [
  SAFETENSORS_SINGLE_FILE,
  SAFETENSORS_INDEX_FILE,
  TORCH_SINGLE_FILE,
  TORCH_INDEX_FILE,
] as const;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The tensors of a Hugging Face checkpoint folder, from the first of `model.safetensors`,
 * `model.safetensors.index.json`, `pytorch_model.bin`, `pytorch_model.bin.index.json` that exists
 * (transformers' precedence). PyTorch files are read with `@pythia/torch-checkpoint`: no code in
 * them runs, and a pickle that names anything but tensors and dicts is refused. Every file's header
 * (or pickle) is read and passed to `checkTensors` before any tensor data is read.
 */
export async function loadWeightTensors(
  dir: string,
  options: LoadCheckpointTensorsOptions = {},
): Promise<CheckpointTensors> {
  const [safetensors, safetensorsIndex] = await Promise.all(
    [SAFETENSORS_SINGLE_FILE, SAFETENSORS_INDEX_FILE].map((name) => isFile(join(dir, name))),
  );
  if (!safetensors && !safetensorsIndex) {
    const torch = await readTorchWeights(dir, options);
    if (torch !== null) {
      return { tensors: torch.tensors, metadata: {}, files: torch.files };
    }
    const shard = (await readdir(dir).catch(() => [] as string[])).find((name) =>
      /^pytorch_model-\d+-of-\d+\.bin$/.test(name),
    );
    if (shard !== undefined) {
      throw new ModelError(
        "CHECKPOINT_FORMAT",
        `${dir}: ${TORCH_INDEX_FILE}: missing, but ${shard} is there; download ${TORCH_INDEX_FILE} too (it says which shard holds each tensor)`,
      );
    }
  }
  return loadCheckpointTensors(dir, options);
}

/**
 * `pytorch_model.bin`, else the shards of `pytorch_model.bin.index.json`: every pickle is opened (tensor
 * names, dtypes and shapes, no data) and checked before any tensor is read. Null when there is neither.
 */
async function readTorchWeights(
  dir: string,
  options: LoadCheckpointTensorsOptions,
): Promise<{ tensors: Map<string, TorchTensorData>; files: string[] } | null> {
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
    await options.beforeRead?.(indexFile);
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
  const opened: Array<{ checkpoint: TorchCheckpoint; tensors: Map<string, TorchTensor> }> = [];
  try {
    const owner = new Map<string, string>();
    const described = new Map<string, { dtype: string; shape: readonly number[] }>();
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
      await options.beforeRead?.(file);
      const checkpoint = await openTorchCheckpoint(file);
      const tensors = new Map([...checkpoint.tensors()].filter(([name]) => keep(name)));
      opened.push({ checkpoint, tensors });
      for (const [name, tensor] of tensors) {
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
        described.set(name, { dtype: tensor.dtype, shape: tensor.shape });
      }
    }
    for (const [name, shard] of weightMap ?? []) {
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
    options.checkTensors?.(described);
    const out = new Map<string, TorchTensorData>();
    for (const { checkpoint, tensors } of opened) {
      for (const [name, tensor] of tensors) {
        if (options.names?.(name) ?? true) {
          out.set(name, await checkpoint.read(tensor, { toFloat32: options.toFloat32 ?? true }));
        }
      }
    }
    return { tensors: out, files: shards.map(({ file }) => file) };
  } finally {
    for (const { checkpoint } of opened) {
      await checkpoint.close();
    }
  }
}
