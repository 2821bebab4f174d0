import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkspacePackage } from "./workspace-packages.js";

/** Runs pnpm: the one running this script when there is one (`pnpm test:pack`), else pnpm 12.4.2 through npx. */
function pnpm(args: readonly string[], cwd: string): string {
  const execPath = process.env.npm_execpath;
  if (execPath !== undefined && /pnpm\.c?js$/.test(execPath)) {
    return execFileSync(process.execPath, [execPath, ...args], { cwd, encoding: "utf8" });
  }
  return execFileSync("npx", ["-y", "pnpm@12.4.2", ...args], { cwd, encoding: "utf8" });
}

/**
 * Packs each package with `pnpm pack` (which turns `workspace:^` into version ranges, as publishing
 * does) into `destination`; returns the tarball paths by package name. The packages must be built.
 */
export function packPackages(
  packages: readonly WorkspacePackage[],
  destination: string,
): Map<string, string> {
  mkdirSync(destination, { recursive: true });
  const tarballs = new Map<string, string>();
  for (const pkg of packages) {
    if (!existsSync(join(pkg.dir, "dist"))) {
      throw new Error(`${pkg.dir}/dist is missing: build first (pnpm build)`);
    }
    const before = new Set(readdirSync(destination));
    pnpm(["pack", "--pack-destination", destination], pkg.dir);
    const added = readdirSync(destination).filter((name) => !before.has(name) && name.endsWith(".tgz"));
    const [tarball] = added;
    if (tarball === undefined || added.length !== 1) {
      throw new Error(`pnpm pack in ${pkg.dir} made ${added.length} tarballs, expected 1`);
    }
    tarballs.set(pkg.name, join(destination, tarball));
  }
  return tarballs;
}

/**
 * A fresh folder with an empty `package.json`, the tarballs installed in it by plain npm (third-party
 * packages come from the registry, or npm's cache: `--prefer-offline`). Returns the folder.
 */
export function installTarballs(tarballs: readonly string[], label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pythia-install-${label}-`));
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: `try-${label}`, private: true, type: "module" })}\n`,
  );
  execFileSync(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  return dir;
}
