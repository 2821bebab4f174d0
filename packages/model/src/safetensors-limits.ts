import { constants } from "node:buffer";
import { stat } from "node:fs/promises";
import { ModelError, SafetensorsError } from "./model-errors.js";

/** The most bytes one JavaScript typed array can hold in this runtime (4 GiB on Node 20). */
export const MAX_TENSOR_BYTES: number = constants.MAX_LENGTH;

/**
 * Allocates the buffer for one tensor's bytes, refusing (before allocating) a tensor larger than a
 * typed array can hold, in its stored dtype or decoded to float32.
 * @throws SafetensorsError naming the file, the tensor, its size and the fix.
 */
export function allocateTensorBytes(params: {
  file: string;
  name: string;
  info: { dtype: string; dataOffsets: readonly [number, number] };
  /** Half floats are decoded to float32: twice their stored size. */
  toFloat32: boolean;
}): Uint8Array {
  const [begin, end] = params.info.dataOffsets;
  const byteLength = end - begin;
  const halfFloat = params.info.dtype === "F16" || params.info.dtype === "BF16";
  const largest = params.toFloat32 && halfFloat ? 2 * byteLength : byteLength;
  if (largest > MAX_TENSOR_BYTES) {
    throw new SafetensorsError({
      file: params.file,
      field: `tensor "${params.name}"`,
      what: `${formatBytes(largest)} is more than the ${formatBytes(MAX_TENSOR_BYTES)} one JavaScript typed array can hold`,
      fix: "skip it with a `names` filter, or save the checkpoint with that tensor split into smaller ones",
      code: "MODEL_INPUT",
    });
  }
  return new Uint8Array(byteLength);
}

/**
 * Refuses a directory where a safetensors file is expected (a raw `EISDIR` otherwise).
 * @throws ModelError (code `MODEL_INPUT`) "X is a directory; pass the model.safetensors file inside it".
 */
export async function checkNotDirectory(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory() === true) {
    throw new ModelError("MODEL_INPUT", `${path} is a directory; pass the model.safetensors file inside it`);
  }
}

function formatBytes(bytes: number): string {
  return `${bytes} bytes (${(bytes / 2 ** 30).toFixed(2)} GiB)`;
}
