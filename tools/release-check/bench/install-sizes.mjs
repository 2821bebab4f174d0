// Install size of each published package alone, and of the whole set, as a user gets it: the packed
// tarballs (pnpm pack) installed with plain npm into fresh folders (peers included, as npm 7+ does).
// Usage: node bench/install-sizes.mjs [label]   (the packages must be built; prints a Markdown table)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..", "..");
const label = process.argv[2] ?? "";

const packages = [];
for (const group of ["packages", "apps"]) {
  for (const name of readdirSync(join(root, group))) {
    const dir = join(root, group, name);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (!manifest.private) {
      packages.push({ dir, manifest });
    }
  }
}
const byName = new Map(packages.map((pkg) => [pkg.manifest.name, pkg]));

const packs = mkdtempSync(join(tmpdir(), "pythia-sizes-packs-"));
const tarballs = new Map();
for (const pkg of packages) {
  const before = new Set(readdirSync(packs));
  execFileSync("npx", ["-y", "pnpm@12.4.2", "pack", "--pack-destination", packs], {
    cwd: pkg.dir,
    stdio: "ignore",
  });
  const made = readdirSync(packs).find((name) => !before.has(name));
  tarballs.set(pkg.manifest.name, join(packs, made));
}

/** The package and the @pythia/* packages it needs, transitively. */
function closure(name, seen = new Set()) {
  if (seen.has(name)) {
    return seen;
  }
  seen.add(name);
  const manifest = byName.get(name).manifest;
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (byName.has(dep)) {
      closure(dep, seen);
    }
  }
  return seen;
}

function duBytes(path) {
  return Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);
}

function install(names) {
  const dir = mkdtempSync(join(tmpdir(), "pythia-sizes-"));
  writeFileSync(join(dir, "package.json"), '{"name":"sizes","private":true}\n');
  const started = performance.now();
  execFileSync(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      ...names.map((n) => tarballs.get(n)),
    ],
    { cwd: dir, stdio: "ignore" },
  );
  const seconds = (performance.now() - started) / 1000;
  const bytes = duBytes(join(dir, "node_modules"));
  const count =
    execFileSync("npm", ["ls", "--all", "--parseable"], { cwd: dir, encoding: "utf8" }).trim().split("\n")
      .length - 1;
  rmSync(dir, { recursive: true, force: true });
  return { bytes, count, seconds };
}

const mb = (bytes) => (bytes / 1e6).toFixed(1);
console.log(`| package ${label} | tarball (kB) | node_modules (MB) | packages installed |`);
console.log("| --- | ---: | ---: | ---: |");
for (const pkg of packages.sort((a, b) => a.manifest.name.localeCompare(b.manifest.name))) {
  const name = pkg.manifest.name;
  const result = install([...closure(name)]);
  const tarball = statSync(tarballs.get(name)).size;
  console.log(
    `| \`${name}\` alone | ${(tarball / 1e3).toFixed(0)} | ${mb(result.bytes)} | ${result.count} |`,
  );
}
const all = install(packages.map((pkg) => pkg.manifest.name));
console.log(`| all ${packages.length} packages | | ${mb(all.bytes)} | ${all.count} |`);
rmSync(packs, { recursive: true, force: true });
