import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/**
 * How `run.json` stores `path`: relative to the run directory (POSIX separators) when the run holds
 * it, absolute otherwise, so the run can be moved or copied and read from any working directory.
 * A relative `path` is taken relative to `cwd`.
 */
export function toStoredPath(params: { runDir: string; path: string; cwd?: string }): string {
  const absolute = resolve(params.cwd ?? process.cwd(), params.path);
  const inside = relative(resolve(params.cwd ?? process.cwd(), params.runDir), absolute);
  if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    return absolute;
  }
  return inside.split(sep).join("/");
}

/** Parameters of `resolveStoredPath`. */
export interface ResolveStoredPathParams {
  /** The run directory, absolute. */
  runDir: string;
  /** The path as `run.json` stores it. */
  stored: string;
  /** True for a run written before `run.json` had a `format` (paths relative to where training started). */
  legacy: boolean;
  /** What must exist for a legacy candidate to be taken: `stored + suffix` (`.idx` for a dataset prefix). @default "" */
  suffix?: string;
  /** Where a legacy run's paths are tried last. @default process.cwd() */
  cwd?: string;
}

/**
 * The absolute path a stored `run.json` path names. Version 1: relative to the run directory.
 * Legacy runs, whose paths are relative to where training started, are found by trying, in order:
 * the part after the run directory's own name (`runs/<name>/data/x` → `<runDir>/data/x`), the part
 * from a `data/` or `index-maps/` folder on (`<runDir>/data/x`), the path below each folder from the
 * run directory up to the root, and the working directory; the first that exists wins (the working
 * directory's when none does).
 */
export function resolveStoredPath(params: ResolveStoredPathParams): string {
  const { runDir, stored } = params;
  if (isAbsolute(stored)) {
    return stored;
  }
  if (!params.legacy) {
    return join(runDir, stored);
  }
  const cwd = params.cwd ?? process.cwd();
  const suffix = params.suffix ?? "";
  const parts = stored.split(/[\\/]+/).filter((part) => part !== "" && part !== ".");
  const candidates: string[] = [];
  const own = parts.lastIndexOf(runDir.split(/[\\/]+/).at(-1) ?? "");
  if (own >= 0 && own < parts.length - 1) {
    candidates.push(join(runDir, ...parts.slice(own + 1)));
  }
  const folder = Math.max(parts.lastIndexOf("data"), parts.lastIndexOf("index-maps"));
  if (folder >= 0 && folder < parts.length - 1) {
    candidates.push(join(runDir, ...parts.slice(folder)));
  }
  for (let ancestor = runDir; ; ancestor = dirname(ancestor)) {
    candidates.push(join(ancestor, ...parts));
    if (dirname(ancestor) === ancestor) {
      break;
    }
  }
  const fallback = resolve(cwd, stored);
  candidates.push(fallback);
  return candidates.find((candidate) => existsSync(`${candidate}${suffix}`)) ?? fallback;
}
