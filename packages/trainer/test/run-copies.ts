import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** `step{N}/manifest.json` of every checkpoint of a run: equal manifests mean byte-identical checkpoints. */
export function manifests(out: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(out)
      .filter((name) => /^step\d+$/.test(name))
      .map((name) => [name, readFileSync(join(out, name, "manifest.json"), "utf8")]),
  );
}

/** `[type, step, loss]` of every metrics.jsonl record (tokens/s differ between runs). */
export function losses(out: string): Array<[string, number, number]> {
  return readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { type: string; step: number; loss: number })
    .map(({ type, step, loss }) => [type, step, loss]);
}

/** A copy of run directory `out` in a fresh folder. */
export function copyRun(out: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), "pythia-run-copy-")), "run");
  cpSync(out, copy, { recursive: true });
  return copy;
}

/** Flips one bit in the middle of `file` (same size, other sha256). */
export function flipBit(file: string): void {
  const bytes = readFileSync(file);
  const at = Math.floor(statSync(file).size / 2);
  bytes[at] = (bytes[at] as number) ^ 0x10;
  writeFileSync(file, bytes);
}

/** The child of test/train-child.mjs: its stdout events, how it ended. */
export interface ChildRun {
  events: Array<{ type: string; step?: number }>;
  signal: NodeJS.Signals | null;
  code: number | null;
}

/**
 * Runs test/train-child.mjs (the built package) on `config` and `data` into `out` with `options`;
 * `kill(child, line)` sees each stdout line and may kill the child.
 */
export function runChild(params: {
  config: unknown;
  data: unknown;
  out: string;
  options?: Record<string, unknown>;
  onLine?: (line: string, kill: () => void) => void;
  onSpawn?: (kill: () => void) => void;
}): Promise<ChildRun> {
  const script = fileURLToPath(new URL("./train-child.mjs", import.meta.url));
  const args = [
    script,
    JSON.stringify(params.config),
    JSON.stringify(params.data),
    params.out,
    JSON.stringify(params.options ?? {}),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const kill = () => child.kill("SIGKILL");
    const events: ChildRun["events"] = [];
    let buffer = "";
    let stderr = "";
    params.onSpawn?.(kill);
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        events.push(JSON.parse(line) as ChildRun["events"][number]);
        params.onLine?.(line, kill);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code, signal) => {
      if (code !== 0 && signal === null) {
        process.stderr.write(stderr);
      }
      resolve({ events, signal, code });
    });
  });
}
