import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Reference fixtures too large to commit (pythia-tiny: 26 MB), from `../shared/fixtures`. */
export { sharedFixture } from "@pythia/core/testing";

/** Absolute path of a committed fixture under test/fixtures. */
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
