import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EvalError } from "./eval-errors.js";

/** Reads a task file under the data directory, failing with the path and the fix when it is missing. */
export function readDataFile(dataDir: string, relative: string, task: string): string {
  const path = join(dataDir, relative);
  if (!existsSync(path)) {
    throw new EvalError(
      "DATA_MISSING",
      `${task}: ${path} is missing; point --data-dir at a folder holding the task files in their original formats (see the @pythia/eval README, "Data")`,
    );
  }
  return readFileSync(path, "utf8");
}

/** True when every listed file exists under the data directory. */
export function hasDataFiles(dataDir: string, relatives: readonly string[]): boolean {
  return relatives.every((relative) => existsSync(join(dataDir, relative)));
}

/** Parses JSON Lines, naming the file and line of a malformed row. */
export function parseJsonLines<T>(text: string, path: string, task: string): T[] {
  const rows: T[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") {
      return;
    }
    try {
      rows.push(JSON.parse(line) as T);
    } catch (error) {
      throw new EvalError(
        "DATA_FORMAT",
        `${task}: ${path}:${i + 1}: not valid JSON (${(error as Error).message})`,
      );
    }
  });
  return rows;
}

/** Throws a `DATA_FORMAT` error naming the file and row unless `condition` holds. */
export function expectData(condition: unknown, task: string, where: string, what: string): asserts condition {
  if (!condition) {
    throw new EvalError("DATA_FORMAT", `${task}: ${where}: ${what}`);
  }
}

/** Python `len(s)`: Unicode code points. */
export function pythonLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xdc00 || unit > 0xdfff || i === 0 || (text.charCodeAt(i - 1) & 0xfc00) !== 0xd800) {
      n++; // a low surrogate after a high one belongs to the same code point
    }
  }
  return n;
}
