import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireRunLock, RUN_LOCK, RunError } from "../run.js";

const run = () => mkdtempSync(join(tmpdir(), "pythia-run-lock-"));
const refusal = (dir: string) => {
  try {
    acquireRunLock({ dir });
  } catch (error) {
    return RunError.isInstance(error) ? `${error.code}: ${error.message}` : String(error);
  }
  return null;
};

describe("acquireRunLock", () => {
  it("writes pid, hostname and start time, refuses a second holder, and is free again once released", () => {
    const dir = run();
    const lock = acquireRunLock({ dir });
    expect(JSON.parse(readFileSync(join(dir, RUN_LOCK), "utf8"))).toEqual({
      pid: process.pid,
      hostname: hostname(),
      startedAt: lock.owner.startedAt,
    });
    expect(refusal(dir)).toBe(
      `RUN_LOCKED: ${join(dir, RUN_LOCK)}: another process writes into this run (pid ${process.pid} on ${hostname()}, since ${lock.owner.startedAt}); wait for it to finish or stop it, or, if no such process runs, delete ${join(dir, RUN_LOCK)}`,
    );
    lock.release();
    expect(existsSync(join(dir, RUN_LOCK))).toBe(false);
    acquireRunLock({ dir }).release();
  });

  it("takes over a dead process's lock on this host, not one from another host", () => {
    const dir = run();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid: dead, hostname: hostname(), startedAt: "x" }));
    const lock = acquireRunLock({ dir });
    expect(JSON.parse(readFileSync(join(dir, RUN_LOCK), "utf8")).pid).toBe(process.pid);
    lock.release();
    writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid: dead, hostname: "elsewhere", startedAt: "x" }));
    expect(refusal(dir)).toMatch(
      /^RUN_LOCKED: .*run\.lock: another process writes into this run \(pid \d+ on elsewhere/,
    );
  });

  it("refuses a lock being written (empty and new), takes over one left empty by a kill", () => {
    const dir = run();
    writeFileSync(join(dir, RUN_LOCK), "");
    expect(refusal(dir)).toMatch(/^RUN_LOCKED: .*run\.lock: another process has just taken the run lock/);
    utimesSync(join(dir, RUN_LOCK), new Date(0), new Date(0));
    acquireRunLock({ dir }).release();
  });

  it("release leaves a lock another holder took meanwhile", () => {
    const dir = run();
    const lock = acquireRunLock({ dir });
    const other = { pid: process.pid, hostname: hostname(), startedAt: "other" };
    writeFileSync(join(dir, RUN_LOCK), JSON.stringify(other));
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, RUN_LOCK), "utf8"))).toEqual(other);
  });
});
