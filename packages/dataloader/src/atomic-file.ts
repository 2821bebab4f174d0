import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";

/** A sibling temporary path for `path` (same directory, so the final rename is atomic). */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Renames each temporary file onto its final path, in order (put the file that marks completion last). */
export function commitTemporaryFiles(
  pairs: ReadonlyArray<readonly [temporary: string, final: string]>,
): void {
  for (const [temporary, final] of pairs) {
    renameSync(temporary, final);
  }
}

/** Removes temporary files, ignoring ones already gone. */
export function removeTemporaryFiles(paths: readonly string[]): void {
  for (const path of paths) {
    rmSync(path, { force: true });
  }
}

/** Writes `contents` to a temporary sibling and renames it onto `path` (never a half-written file). */
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
