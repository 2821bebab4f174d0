import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of a file under test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Parses a committed `.jsonl` fixture. */
export function readJsonl<T>(name: string): T[] {
  return readFileSync(fixturePath(name), "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

/** Absolute path inside this package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/** Throws a clear message when the build output the test needs is missing. */
export function requireBuild(): string {
  const cli = packagePath("dist/cli.js");
  try {
    readFileSync(cli);
  } catch {
    throw new Error(
      `${cli} is missing: run "pnpm build" (or "pnpm test" from the repo root, which builds first)`,
    );
  }
  return cli;
}
