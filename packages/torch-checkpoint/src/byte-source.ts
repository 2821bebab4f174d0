import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { checkpointError } from "./torch-checkpoint-error.js";

/**
 * Positional reads from a file or a buffer: how every reader in this package gets bytes, so that a
 * 10 GB shard is never one `Buffer` (see docs/decisions/0006-positional-reads-not-mmap.md).
 */
export interface ByteSource {
  /** Name used in error messages (the path). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset`; throws a typed `IO`/format error if they are not there. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the file handle (no-op for buffers). */
  close(): Promise<void>;
}

const MAX_SINGLE_READ = 2 ** 30;

/** A `ByteSource` over bytes in memory (tests, fuzzing, small files). */
export function bytesSource(bytes: Uint8Array, name = "<bytes>"): ByteSource {
  return {
    name,
    size: bytes.length,
    read: async (offset, length) => {
      checkRange(name, offset, length, bytes.length);
      return bytes.subarray(offset, offset + length);
    },
    close: async () => {},
  };
}

/** Opens `path` for positional reads. */
export async function fileSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, "r");
    size = (await handle.stat()).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw checkpointError("IO", path, "open", `cannot open the file (${code})`, "check the path", error);
  }
  return {
    name: path,
    size,
    read: async (offset, length) => {
      checkRange(path, offset, length, size);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const want = Math.min(MAX_SINGLE_READ, length - done);
        let bytesRead: number;
        try {
          ({ bytesRead } = await handle.read(out, done, want, offset + done));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          throw checkpointError(
            "IO",
            path,
            `bytes ${offset + done}..`,
            `read failed (${code})`,
            "check the disk",
            error,
          );
        }
        if (bytesRead === 0) {
          throw checkpointError(
            "IO",
            path,
            `bytes ${offset + done}..${offset + length}`,
            "the file ended early (it shrank while being read)",
            "download or save the file again",
          );
        }
        done += bytesRead;
      }
      return out;
    },
    close: async () => {
      await handle.close();
    },
  };
}

function checkRange(name: string, offset: number, length: number, size: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw checkpointError(
      "TORCH_FORMAT",
      name,
      `bytes ${offset}..${offset + length}`,
      `the range runs past the end of the ${size}-byte file`,
      "the file is truncated or corrupt; download or save it again",
    );
  }
}
