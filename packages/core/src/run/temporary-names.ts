import { existsSync, lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

// Temporary names come from `temporaryPath` (`<path>.tmp-<pid>-<hex>`, in ../files.ts): one scheme.

/**
 * True for a name left by an interrupted atomic write, in every scheme the `@pythia/*` packages have
 * used: `*.tmp-*` (files, `saveCheckpoint`'s `.<dir>.tmp-*`, including `..step{N}.partial-*.tmp-*`,
 * and `*.tmp-copy`), and the trainer's former `.step{N}.partial-*` folders.
 */
export function isTemporaryName(name: string): boolean {
  return /\.tmp-/.test(name) || /^\.step\d+\.partial-/.test(name);
}

/** Parameters of `removeTemporaryFiles`. */
export interface RemoveTemporaryFilesParams {
  /** The run directory. */
  dir: string;
  /** Folder levels below `dir` to search too (`index-maps/`, `data/`, `step{N}/`). @default 1 */
  depth?: number;
}

/**
 * Removes what interrupted atomic writes left in a run directory (see `isTemporaryName`), in `dir`
 * and the folders `depth` levels below it (not through symbolic links); returns the removed paths.
 * Call it only when no other process writes into the run (the trainer does at start).
 */
export function removeTemporaryFiles(params: RemoveTemporaryFilesParams): string[] {
  const removed: string[] = [];
  const visit = (dir: string, depth: number): void => {
    if (!existsSync(dir)) {
      return;
    }
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (isTemporaryName(name)) {
        rmSync(path, { recursive: true, force: true });
        removed.push(path);
      } else if (depth > 0 && lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) {
        // Not through symbolic links: a linked data folder may be another process's to write.
        visit(path, depth - 1);
      }
    }
  };
  visit(params.dir, params.depth ?? 1);
  return removed;
}
