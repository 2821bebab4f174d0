import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { open, rm, type FileHandle } from "node:fs/promises";
import { renameDurable } from "./rename-durable.js";

/**
 * A sibling temporary path for `path`: `<path>.tmp-<pid>-<8 hex>`, in the same folder so a final
 * rename is atomic. The one temporary-name scheme of the `@pythia/*` packages (files and folders).
 */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Writes `contents` to a temporary sibling and renames it onto `path`: never a half-written file. */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const temporary = temporaryPath(path);
  try {
    writeFileSync(temporary, contents);
    renameDurable(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes a file by letting `fill` write into an open handle of a temporary sibling, syncing it, and
 * renaming it onto `path`: never a half-written file, for contents too large to hold in memory.
 */
export async function writeFileAtomicAsync(
  path: string,
  fill: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const temporary = temporaryPath(path);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, "wx");
    await fill(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    renameDurable(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}
