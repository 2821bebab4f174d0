/**
 * An atomic, durable file write without `@pythia/core` (this package has no runtime dependencies,
 * ADR 0005): the same scheme as core's `writeFileAtomic` — a temporary sibling
 * `<path>.tmp-<pid>-<8 hex>`, written and fsynced, renamed onto `path`, then the folder fsynced so the
 * rename survives a crash. Readers see the old file or the whole new one, never a half-written one.
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** Writes `contents` to `path` atomically and durably (see the file comment). */
export async function writeFileAtomic(path: string, contents: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const handle = await open(temporary, "wx");
    try {
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(dirname(path));
}

/** fsyncs a folder so a rename in it is durable; a no-op where folders cannot be opened or synced (Windows). */
async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES") {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}
