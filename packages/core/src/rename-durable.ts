import * as nodeFs from "node:fs";
import { dirname, join } from "node:path";

/** The file-system calls {@link renameDurable} makes (injectable, so tests can check their order). */
export interface DurableFs {
  openSync(path: string, flags: string): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  statSync(path: string): { isDirectory(): boolean };
  readdirSync(path: string): string[];
}

const NODE_FS: DurableFs = {
  openSync: (path, flags) => nodeFs.openSync(path, flags),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  statSync: (path) => nodeFs.statSync(path),
  readdirSync: (path) => nodeFs.readdirSync(path),
};

// Platforms where a directory cannot be opened or fsynced (Windows: EPERM/EISDIR; some file systems:
// EINVAL). There the rename is as durable as the platform allows.
const DIRECTORY_SYNC_UNSUPPORTED = new Set(["EISDIR", "EPERM", "EINVAL", "EBADF", "EACCES"]);

function syncPath(fs: DurableFs, path: string, isDirectory: boolean): void {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    if (isDirectory && DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) {
      return;
    }
    throw error;
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (!(isDirectory && DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? ""))) {
      throw error;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncs every file under `dir` (depth first, names sorted), then `dir` itself. */
function syncTree(fs: DurableFs, dir: string): void {
  for (const name of fs.readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (fs.statSync(path).isDirectory()) {
      syncTree(fs, path);
    } else {
      syncPath(fs, path, false);
    }
  }
  syncPath(fs, dir, true);
}

/**
 * The commit step of every atomic write in `@pythia/*`: fsyncs `from` (a file, or a directory and
 * every file under it), renames it onto `to` (same file system), then fsyncs `to`'s parent directory,
 * so that after a power loss `to` is either the old version or the complete new one — never a renamed
 * but empty file.
 *
 * @example
 * writeFileSync(temporary, bytes);
 * renameDurable(temporary, "run/step1000/manifest.json");
 */
export function renameDurable(from: string, to: string, options: { fs?: DurableFs } = {}): void {
  const fs = options.fs ?? NODE_FS;
  if (fs.statSync(from).isDirectory()) {
    syncTree(fs, from);
  } else {
    syncPath(fs, from, false);
  }
  fs.renameSync(from, to);
  syncPath(fs, dirname(to), true);
}
