import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";

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
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
