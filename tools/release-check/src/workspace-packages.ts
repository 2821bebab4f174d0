import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is tools/release-check/src/workspace-packages.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** One workspace package's folder and manifest fields this tool reads. */
export interface WorkspacePackage {
  dir: string;
  name: string;
  version: string;
  private: boolean;
  bin: Record<string, string>;
  files: string[];
}

/** The packages under packages/ and apps/ that are published (not `"private": true`). */
export function publishedPackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ["packages", "apps"]) {
    for (const entry of readdirSync(join(REPO_ROOT, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) {
        continue;
      }
      const dir = join(REPO_ROOT, group, entry.name);
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        version: string;
        private?: boolean;
        bin?: Record<string, string>;
        files?: string[];
      };
      if (manifest.private === true) {
        continue;
      }
      found.push({
        dir,
        name: manifest.name,
        version: manifest.version,
        private: false,
        bin: manifest.bin ?? {},
        files: manifest.files ?? [],
      });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
