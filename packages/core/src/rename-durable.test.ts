import * as nodeFs from "node:fs";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type DurableFs, renameDurable } from "./rename-durable.js";

/** The real file system, recording each call as "open PATH", "fsync PATH", "close PATH", "rename A -> B". */
function recordingFs(root: string): { fs: DurableFs; calls: string[] } {
  const calls: string[] = [];
  const paths = new Map<number, string>();
  const short = (path: string) => (path === root ? "." : path.slice(root.length + 1));
  const fs: DurableFs = {
    openSync: (path, flags) => {
      const fd = nodeFs.openSync(path, flags);
      paths.set(fd, short(path));
      calls.push(`open ${short(path)}`);
      return fd;
    },
    fsyncSync: (fd) => {
      nodeFs.fsyncSync(fd);
      calls.push(`fsync ${paths.get(fd)}`);
    },
    closeSync: (fd) => {
      nodeFs.closeSync(fd);
      calls.push(`close ${paths.get(fd)}`);
    },
    renameSync: (from, to) => {
      nodeFs.renameSync(from, to);
      calls.push(`rename ${short(from)} -> ${short(to)}`);
    },
    statSync: (path) => nodeFs.statSync(path),
    readdirSync: (path) => nodeFs.readdirSync(path),
  };
  return { fs, calls };
}

describe("renameDurable", () => {
  it("fsyncs the file, renames it, then fsyncs the directory", () => {
    const root = mkdtempSync(join(tmpdir(), "pythia-durable-"));
    mkdirSync(join(root, "run"));
    writeFileSync(join(root, "run", "a.json.tmp"), "{}\n");
    const { fs, calls } = recordingFs(root);
    renameDurable(join(root, "run", "a.json.tmp"), join(root, "run", "a.json"), { fs });
    expect(calls).toEqual([
      "open run/a.json.tmp",
      "fsync run/a.json.tmp",
      "close run/a.json.tmp",
      "rename run/a.json.tmp -> run/a.json",
      "open run",
      "fsync run",
      "close run",
    ]);
    expect(readFileSync(join(root, "run", "a.json"), "utf8")).toBe("{}\n");
  });

  it("for a directory: fsyncs every file under it and the directory before the rename, the parent after", () => {
    const root = mkdtempSync(join(tmpdir(), "pythia-durable-"));
    mkdirSync(join(root, ".step1.partial", "sub"), { recursive: true });
    writeFileSync(join(root, ".step1.partial", "model.safetensors"), "m");
    writeFileSync(join(root, ".step1.partial", "config.json"), "c");
    writeFileSync(join(root, ".step1.partial", "sub", "x"), "x");
    const { fs, calls } = recordingFs(root);
    renameDurable(join(root, ".step1.partial"), join(root, "step1"), { fs });
    expect(calls.filter((call) => !call.startsWith("open ") && !call.startsWith("close "))).toEqual([
      "fsync .step1.partial/config.json",
      "fsync .step1.partial/model.safetensors",
      "fsync .step1.partial/sub/x",
      "fsync .step1.partial/sub",
      "fsync .step1.partial",
      "rename .step1.partial -> step1",
      "fsync .",
    ]);
    // Every fsync is of a descriptor opened just before and closed just after.
    expect(calls.length).toBe(6 * 3 + 1);
    calls.forEach((call, index) => {
      if (call.startsWith("fsync ")) {
        const path = call.slice("fsync ".length);
        expect([calls[index - 1], calls[index + 1]]).toEqual([`open ${path}`, `close ${path}`]);
      }
    });
    expect(readFileSync(join(root, "step1", "sub", "x"), "utf8")).toBe("x");
  });

  it("does not rename when the fsync fails, and closes the descriptor", () => {
    const root = mkdtempSync(join(tmpdir(), "pythia-durable-"));
    writeFileSync(join(root, "a.tmp"), "a");
    const { fs, calls } = recordingFs(root);
    const failing: DurableFs = {
      ...fs,
      fsyncSync: () => {
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      },
    };
    expect(() => renameDurable(join(root, "a.tmp"), join(root, "a"), { fs: failing })).toThrow("EIO");
    expect(calls).toEqual(["open a.tmp", "close a.tmp"]);
    expect(nodeFs.existsSync(join(root, "a"))).toBe(false);
  });

  it("tolerates a platform that cannot fsync directories", () => {
    const root = mkdtempSync(join(tmpdir(), "pythia-durable-"));
    writeFileSync(join(root, "a.tmp"), "a");
    const { fs, calls } = recordingFs(root);
    const noDirectorySync: DurableFs = {
      ...fs,
      openSync: (path, flags) => {
        if (nodeFs.statSync(path).isDirectory()) {
          throw Object.assign(new Error("EISDIR: illegal operation on a directory"), { code: "EISDIR" });
        }
        return fs.openSync(path, flags);
      },
    };
    renameDurable(join(root, "a.tmp"), join(root, "a"), { fs: noDirectorySync });
    expect(calls).toEqual(["open a.tmp", "fsync a.tmp", "close a.tmp", "rename a.tmp -> a"]);
  });
});
