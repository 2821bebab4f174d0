import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";

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

/**
 * A reference fixture too large to commit (pythia-tiny: 26 MB), read from the shared fixtures folder:
 * `$PYTHIA_SHARED_FIXTURES` or `<repo>/../shared/fixtures`. Returns null when absent, except under
 * `CI=true`, where a missing file fails the run instead of silently skipping.
 */
export function sharedFixture(relative: string): string | null {
  const root = process.env.PYTHIA_SHARED_FIXTURES ?? resolve(packagePath("."), "../../../shared/fixtures");
  const path = join(root, relative);
  if (existsSync(path)) {
    return path;
  }
  if (process.env.CI === "true") {
    throw new Error(
      `${path} is missing: set PYTHIA_SHARED_FIXTURES to the shared fixtures folder (CI must not skip these tests)`,
    );
  }
  return null;
}
