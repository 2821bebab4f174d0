import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Removes the temporary files (`PREFIX.bin.tmp-PID-*`, `PREFIX.idx.tmp-PID-*`) that a killed writer
 * of the dataset at `prefix` left behind: those whose process is no longer running. Files of a
 * running process (another writer, or this one) are kept. Returns the paths removed.
 */
export function removeStaleTemporaryFiles(prefix: string): string[] {
  const dir = dirname(prefix);
  const base = basename(prefix);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(base)) {
      continue;
    }
    const match = /^\.(?:bin|idx)\.tmp-(\d+)-[0-9a-f]+$/.exec(name.slice(base.length));
    if (match !== null && !isRunning(Number(match[1]))) {
      rmSync(join(dir, name), { force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) {
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
