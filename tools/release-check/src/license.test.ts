import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publishedPackages, REPO_ROOT } from "./workspace-packages.js";

/** What `npm pack --dry-run --json` reports for each folder (one npm run): the paths in its tarball, by folder. */
function tarballFiles(dirs: readonly string[]): Map<string, string[]> {
  const output = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", ...dirs], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const reports = JSON.parse(output) as Array<{ name: string; files: Array<{ path: string }> }>;
  return new Map(reports.map((report) => [report.name, report.files.map((file) => file.path)]));
}

const packages = publishedPackages();
const files = tarballFiles(packages.map((pkg) => pkg.dir));

describe("license files", () => {
  it("the root LICENSE is the Apache License 2.0 and NOTICE keeps EleutherAI's notice", () => {
    const license = readFileSync(join(REPO_ROOT, "LICENSE"), "utf8");
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain("END OF TERMS AND CONDITIONS");
    const notice = readFileSync(join(REPO_ROOT, "NOTICE"), "utf8");
    expect(notice).toContain("data/gpt-neox-20b/tokenizer.json");
    expect(notice).toContain("EleutherAI");
    expect(notice).toContain("data/tinyshakespeare/input.txt");
  });

  it("finds the published packages", () => {
    expect(packages.map((pkg) => pkg.name)).toEqual(
      expect.arrayContaining(["@pythia/core", "@pythia/tokenizer"]),
    );
  });

  it.each(packages.map((pkg) => [pkg.name, pkg.dir] as const))(
    "%s packs LICENSE and NOTICE identical to the root's",
    (name, dir) => {
      expect(files.get(name)).toContain("LICENSE");
      expect(files.get(name)).toContain("NOTICE");
      for (const name of ["LICENSE", "NOTICE"]) {
        expect(
          readFileSync(join(dir, name), "utf8"),
          `${dir}/${name} differs from the root's: copy it again`,
        ).toBe(readFileSync(join(REPO_ROOT, name), "utf8"));
      }
    },
  );
});
