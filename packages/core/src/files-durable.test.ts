import type * as NodeFs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";

// writeFileAtomic takes no injectable fs, so this file spies on node:fs itself (only in this file).
const calls: string[] = [];
vi.mock("node:fs", async (importOriginal) => {
  const actual = await importOriginal<typeof NodeFs>();
  const paths = new Map<number, string>();
  const name = (path: string) => path.split("/").pop() ?? path;
  return {
    ...actual,
    writeFileSync: (...args: Parameters<typeof actual.writeFileSync>) => {
      calls.push(`write ${name(String(args[0])).replace(/\.tmp-.*/, ".tmp")}`);
      return actual.writeFileSync(...args);
    },
    openSync: (path: string, flags: string) => {
      const fd = actual.openSync(path, flags);
      paths.set(fd, name(path).replace(/\.tmp-.*/, ".tmp"));
      return fd;
    },
    fsyncSync: (fd: number) => {
      calls.push(`fsync ${paths.get(fd)}`);
      return actual.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      calls.push(`rename ${name(from).replace(/\.tmp-.*/, ".tmp")} -> ${name(to)}`);
      return actual.renameSync(from, to);
    },
  };
});

const { writeFileAtomic } = await import("./files.js");

describe("writeFileAtomic", () => {
  it("writes the temporary file, fsyncs it, renames it, then fsyncs the directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-core-dir-"));
    calls.length = 0;
    writeFileAtomic(join(dir, "results.json"), "{}\n");
    expect(calls).toEqual([
      "write results.json.tmp",
      "fsync results.json.tmp",
      "rename results.json.tmp -> results.json",
      `fsync ${dir.split("/").pop()}`,
    ]);
    expect(readdirSync(dir)).toEqual(["results.json"]);
    expect(readFileSync(join(dir, "results.json"), "utf8")).toBe("{}\n");
  });
});
