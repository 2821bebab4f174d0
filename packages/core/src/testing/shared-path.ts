import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The shared folders beside the repository, and the environment variable that overrides each. */
const SHARED_FOLDERS = {
  fixtures: "PYTHIA_SHARED_FIXTURES",
  data: "PYTHIA_SHARED_DATA",
} as const;

/** A folder of reference files kept beside the repository: `fixtures` or `data`. */
export type SharedFolder = keyof typeof SHARED_FOLDERS;

/** The nearest folder at or above `start` that holds `pnpm-workspace.yaml`, or null. */
function workspaceRoot(start: string): string | null {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) {
      return dir;
    }
    if (dirname(dir) === dir) {
      return null;
    }
  }
}

/**
 * A file or folder of the reference files too large (or too differently licensed) to commit:
 * `$PYTHIA_SHARED_FIXTURES/<relative>` or `$PYTHIA_SHARED_DATA/<relative>`, by default
 * `<repo>/../shared/<folder>/<relative>` (the repository is found from this module, else from the
 * working directory). Null when absent, so that a test can skip locally; under `CI=true` a missing
 * path throws instead, because CI must not skip these tests.
 */
export function sharedPath(params: { folder: SharedFolder; relative: string }): string | null {
  const envName = SHARED_FOLDERS[params.folder];
  const repo =
    workspaceRoot(dirname(fileURLToPath(import.meta.url))) ?? workspaceRoot(process.cwd()) ?? process.cwd();
  const root = process.env[envName] ?? resolve(repo, "../shared", params.folder);
  const path = join(root, params.relative);
  if (existsSync(path)) {
    return path;
  }
  if (process.env.CI === "true") {
    throw new Error(
      `${path} is missing: set ${envName} to the shared ${params.folder} folder (CI must not skip these tests)`,
    );
  }
  return null;
}

/** `sharedPath` in `shared/fixtures` (`$PYTHIA_SHARED_FIXTURES`): reference outputs and checkpoints. */
export function sharedFixture(relative: string): string | null {
  return sharedPath({ folder: "fixtures", relative });
}

/** `sharedPath` in `shared/data` (`$PYTHIA_SHARED_DATA`): corpora and task data. */
export function sharedData(relative: string): string | null {
  return sharedPath({ folder: "data", relative });
}
