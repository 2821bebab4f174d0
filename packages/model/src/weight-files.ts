import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  openTorchCheckpointFolder,
  TORCH_INDEX_FILE,
  TORCH_SINGLE_FILE,
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
  const folder = await openTorchCheckpointFolder(dir, {
    names: options.names,
    beforeOpen: options.beforeRead,
  });
  if (folder === null) {
    return null;
  }
  try {
    options.checkTensors?.(folder.tensors);
    const out = new Map<string, TorchTensorData>();
    for (const name of folder.tensors.keys()) {
      if (options.names?.(name) ?? true) {
        out.set(name, await folder.read(name, { toFloat32: options.toFloat32 ?? true }));
      }
    }
    return { tensors: out, files: folder.files };
  } finally {
    await folder.close();
  }
}
