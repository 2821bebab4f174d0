import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { RunError } from "./run-errors.js";

/** The lock file a process writing into a run directory holds (`<run>/run.lock`). */
export const RUN_LOCK = "run.lock";

/** What `run.lock` holds: who writes into the run. */
export interface RunLockOwner {
  pid: number;
  hostname: string;
  /** When the holder took the lock (ISO 8601). */
  startedAt: string;
}

/** Parameters of `acquireRunLock`. */
export interface AcquireRunLockParams {
  /** The run directory; it must exist. */
  dir: string;
}

/** A held run lock; `release` removes `run.lock` if it is still this holder's. */
export interface RunLock {
  path: string;
  owner: RunLockOwner;
  /** Removes the lock file (once; later calls do nothing). */
  release(): void;
}

/**
 * Takes `<run>/run.lock` (created with O_EXCL, holding pid, hostname and start time) so that one
 * process at a time writes into a run. A lock whose holder is a dead process on this host (a run
 * killed with SIGKILL) is stale and taken over. Throws `RunError` `RUN_LOCKED`, naming the lock file,
 * the holder and the fix, when a live process (or one on another host, which cannot be checked) holds it.
 */
export function acquireRunLock(params: AcquireRunLockParams): RunLock {
  const path = join(params.dir, RUN_LOCK);
  const owner: RunLockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new RunError("RUN_DIR", `${path}: cannot create the run lock (${(error as Error).message})`, {
          cause: error,
        });
      }
      const holder = readOwner(path);
      if (holder === "gone") {
        continue; // released between our open and our read
      }
      if (holder !== null && isLive(holder)) {
        throw new RunError(
          "RUN_LOCKED",
          `${path}: another process writes into this run (pid ${holder.pid} on ${holder.hostname}, since ${holder.startedAt}); wait for it to finish or stop it, or, if no such process runs, delete ${path}`,
        );
      }
      if (holder === null && Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 5_000) {
        // Another process has just created it and is writing its owner.
        throw new RunError(
          "RUN_LOCKED",
          `${path}: another process has just taken the run lock; wait for it to finish, or, if no such process runs, delete ${path}`,
        );
      }
      // Stale: its holder died on this host, or was killed while writing it.
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(owner)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      path,
      owner,
      release() {
        if (released) {
          return;
        }
        released = true;
        const current = readOwner(path);
        if (
          current !== null &&
          current !== "gone" &&
          current.pid === owner.pid &&
          current.startedAt === owner.startedAt
        ) {
          rmSync(path, { force: true });
        }
      },
    };
  }
  throw new RunError(
    "RUN_LOCKED",
    `${path}: other processes keep taking the run lock; make sure one process at a time trains into this run`,
  );
}

/** The holder `run.lock` names, `null` when it cannot be parsed, `"gone"` when it no longer exists. */
function readOwner(path: string): RunLockOwner | null | "gone" {
  if (!existsSync(path)) {
    return "gone";
  }
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<RunLockOwner>;
    if (
      typeof parsed.pid === "number" &&
      typeof parsed.hostname === "string" &&
      typeof parsed.startedAt === "string"
    ) {
      return { pid: parsed.pid, hostname: parsed.hostname, startedAt: parsed.startedAt };
    }
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : null;
  }
}

/** True unless the holder is a process on this host that no longer exists. */
function isLive(owner: RunLockOwner): boolean {
  if (owner.hostname !== hostname()) {
    return true; // cannot be checked from here
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
