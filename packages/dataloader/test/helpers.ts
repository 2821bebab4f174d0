import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { fileURLToPath } from "node:url";

/** Absolute path of a file under test/fixtures (the GPT-NeoX reference files, see NEOX-FIXTURES.md). */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Parses a JSON fixture. */
export function readJsonFixture<T>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), "utf8")) as T;
}

/** Absolute path inside this package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/** Elements of any typed or plain array as numbers (int64 arrays included). */
export function values(data: ArrayLike<number | bigint>): number[] {
  return Array.from(data, Number);
}

/**
 * Returns a function that makes fresh temporary directories named `pythia-${label}-*`, all removed
 * after the calling test file's tests (call it at the top level of a test file).
 */
export function temporaryDirectories(label: string): () => string {
  const directories: string[] = [];
  afterAll(() => {
    for (const directory of directories) {
      rmSync(directory, { recursive: true, force: true });
    }
  });
  return () => {
    const directory = mkdtempSync(join(tmpdir(), `pythia-${label}-`));
    directories.push(directory);
    return directory;
  };
}
