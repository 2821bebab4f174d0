import { rmSync } from "node:fs";
import { renameDurable } from "@pythia/core";

// Writing several files that become visible together (`.bin` + `.idx`); the temporary names come from
// `temporaryPath` of @pythia/core.

/** Renames each temporary file onto its final path durably, in order (put the file that marks completion last). */
export function commitTemporaryFiles(
  pairs: ReadonlyArray<readonly [temporary: string, final: string]>,
): void {
  for (const [temporary, final] of pairs) {
    renameDurable(temporary, final);
  }
}

/** Removes temporary files, ignoring ones already gone. */
export function removeTemporaryFiles(paths: readonly string[]): void {
  for (const path of paths) {
    rmSync(path, { force: true });
  }
}
