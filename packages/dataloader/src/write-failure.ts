import { DataloaderError } from "./errors.js";

/** True for a Node.js system error (one with an errno `code` such as `ENOSPC`). */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === "string" &&
    typeof (error as NodeJS.ErrnoException).syscall === "string"
  );
}

/**
 * A one-line `DataloaderError` (code `DATASET_IO`) for a failed write of `path`: the file, the errno
 * code, and the fix (a full disk says so).
 */
export function writeFailure(path: string, error: unknown): DataloaderError {
  const code = isSystemError(error) ? error.code : String(error);
  const reason =
    code === "ENOSPC"
      ? "ENOSPC: the disk is full; free space there or choose another output location"
      : `${code}; check that the output directory exists, is writable and has free space`;
  return new DataloaderError("DATASET_IO", `cannot write ${path} (${reason})`, { cause: error });
}
