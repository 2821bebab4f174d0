import { writeFileAtomicAsync } from "@pythia/core";
import { type FileHandle, open } from "node:fs/promises";
import { ModelError, SafetensorsError } from "./model-errors.js";
import { headerLengthOf, parseSafetensorsHeader } from "./parse-safetensors-header.js";
import { allocateTensorBytes, checkNotDirectory } from "./safetensors-limits.js";
import { decodeTensor } from "./safetensors-elements.js";
import { DEFAULT_CHUNK_BYTES, TRUNCATED_FIX, formatError, tensorField } from "./safetensors-internals.js";
import {
  type ReadSafetensorsOptions,
  type SafetensorsContents,
  type SafetensorsHeader,
  type SafetensorsInput,
  type SerializeSafetensorsOptions,
  type TensorEntry,
} from "./safetensors-types.js";
import { planSafetensors } from "./serialize-safetensors.js";

// Files: reading and writing one safetensors file with positional I/O, in bounded chunks.

export function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error);
}

export function ioError(file: string, field: string, error: unknown, fix: string): SafetensorsError {
  return new SafetensorsError({
    file,
    field,
    what: `failed (${errorCode(error)})`,
    fix,
    code: "IO",
    cause: error,
  });
}

export async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (error) {
    throw ioError(path, "open", error, "check that the file exists and is readable");
  }
}

async function readExactly(
  handle: FileHandle,
  into: Uint8Array,
  position: number,
  params: { file: string; field: string; chunkBytes: number },
): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const length = Math.min(params.chunkBytes, into.length - done);
    const { bytesRead } = await handle.read(into, done, length, position + done);
    if (bytesRead === 0) {
      throw formatError(
        params.file,
        params.field,
        `the file ended at byte ${position + done} while ${into.length} bytes were expected from byte ${position}`,
        TRUNCATED_FIX,
      );
    }
    done += bytesRead;
  }
}

/** Reads the header of an open file (positional reads: 8 bytes, then N). */
export async function readHeader(
  handle: FileHandle,
  file: string,
  chunkBytes: number,
): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const prefix = new Uint8Array(Math.min(8, size));
  await readExactly(handle, prefix, 0, { file, field: "header length", chunkBytes });
  const headerLength = headerLengthOf(prefix, file, size);
  const bytes = new Uint8Array(8 + headerLength);
  bytes.set(prefix, 0);
  await readExactly(handle, bytes.subarray(8), 8, { file, field: "header", chunkBytes });
  return parseSafetensorsHeader(bytes, file, { fileSize: size });
}

export async function readTensors(
  handle: FileHandle,
  header: SafetensorsHeader,
  params: { file: string; names: (name: string) => boolean; toFloat32: boolean; chunkBytes: number },
): Promise<Map<string, TensorEntry>> {
  const tensors = new Map<string, TensorEntry>();
  for (const [name, info] of header.tensors) {
    if (params.names(name)) {
      const [begin] = info.dataOffsets;
      // A fresh buffer per tensor: aligned for any typed array, whatever the file offset.
      const bytes = allocateTensorBytes({ file: params.file, name, info, toFloat32: params.toFloat32 });
      await readExactly(handle, bytes, header.dataStart + begin, {
        file: params.file,
        field: tensorField(name, "data"),
        chunkBytes: params.chunkBytes,
      });
      tensors.set(name, {
        dtype: info.dtype,
        shape: info.shape,
        data: decodeTensor(info.dtype, bytes, params.toFloat32),
      });
    }
  }
  return tensors;
}

export function chunkBytesOf(options: ReadSafetensorsOptions): number {
  const chunkBytes = options.readChunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > 2 ** 31 - 1) {
    throw new ModelError(
      "MODEL_INPUT",
      `readChunkBytes: ${chunkBytes} is not an integer in [1, 2^31 − 1]; leave it at the default (1 GiB)`,
    );
  }
  return chunkBytes;
}

/**
 * Reads a safetensors file: the header first (passed to `checkTensors`), then only the selected
 * tensors' byte ranges, with positional reads (so files of any size work). Floats are decoded to `Float32Array` unless
 * `toFloat32` is false.
 *
 * @example
 * const { tensors } = await readSafetensors("model.safetensors", { names: (name) => name.endsWith(".bias") });
 */
export async function readSafetensors(
  path: string,
  options: ReadSafetensorsOptions = {},
): Promise<SafetensorsContents> {
  const chunkBytes = chunkBytesOf(options);
  await checkNotDirectory(path);
  const handle = await openForReading(path);
  try {
    const header = await readHeader(handle, path, chunkBytes);
    options.checkTensors?.(header.tensors);
    const tensors = await readTensors(handle, header, {
      file: path,
      names: options.names ?? (() => true),
      toFloat32: options.toFloat32 ?? true,
      chunkBytes,
    });
    return { tensors, metadata: header.metadata };
  } finally {
    await handle.close();
  }
}

export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const length = Math.min(DEFAULT_CHUNK_BYTES, bytes.length - done);
    const { bytesWritten } = await handle.write(bytes, done, length, position + done);
    done += bytesWritten;
  }
  return position + done;
}

/** Writes a file through a temporary sibling (same folder) renamed onto `path`: never half-written. */
export async function writeFileAtomic(
  path: string,
  fill: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  try {
    await writeFileAtomicAsync(path, fill);
  } catch (error) {
    if (ModelError.isInstance(error)) {
      throw error;
    }
    throw ioError(path, "write", error, "check that the folder exists, is writable and has free space");
  }
}

/**
 * Writes tensors as a safetensors file (same bytes as {@link serializeSafetensors}), atomically: a
 * temporary file in the same folder is renamed onto `path`. Tensors are encoded one at a time.
 */
export async function writeSafetensors(
  path: string,
  tensors: SafetensorsInput,
  options: SerializeSafetensorsOptions = {},
): Promise<void> {
  const plan = planSafetensors(tensors, options);
  await writeFileAtomic(path, async (handle) => {
    let position = await writeAll(handle, plan.header, 0);
    for (const tensor of plan.tensors) {
      position = await writeAll(handle, tensor.encode(), position);
    }
  });
}
