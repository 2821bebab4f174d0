import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PythiaError } from "@pythia/core";
import type { Subcommand } from "./subcommands.js";

const require = createRequire(import.meta.url);

/**
 * The absolute path of a subcommand's bin script, read from its installed package's `package.json`
 * (resolved from this package, so it finds the copies npm installed with it).
 */
export function resolveBin(subcommand: Subcommand): string {
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${subcommand.packageName}/package.json`);
  } catch (error) {
    throw new PythiaError(
      "NOT_INSTALLED",
      `pythia ${subcommand.name} needs ${subcommand.packageName}, which is not installed; reinstall @pythia/cli (npm install @pythia/cli)`,
      { cause: error },
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: Record<string, string> };
  const relative = manifest.bin?.[subcommand.bin];
  if (relative === undefined) {
    throw new PythiaError(
      "NOT_INSTALLED",
      `${manifestPath} has no bin "${subcommand.bin}"; reinstall @pythia/cli (npm install @pythia/cli)`,
    );
  }
  return join(dirname(manifestPath), relative);
}
