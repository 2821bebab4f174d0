// The published artefact works alone: pack it, install the tarball offline into an empty folder
// outside the workspace, and use it there (library and CLI).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packagePath, requireBuild } from "./helpers.js";

describe("the packed @pythia/tokenizer", () => {
  it("installs alone and encodes Hello, world!", () => {
    requireBuild();
    const work = mkdtempSync(join(tmpdir(), "pythia-tokenizer-pack-"));
    execFileSync("pnpm", ["pack", "--pack-destination", work], { cwd: packagePath("."), stdio: "pipe" });
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    const app = join(work, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", join(work, tarball as string)], {
      cwd: app,
      stdio: "pipe",
    });
    writeFileSync(
      join(app, "main.js"),
      'import { loadPileTokenizer } from "@pythia/tokenizer";\n' +
        'import { bundledTokenizerPath, loadTokenizerFile } from "@pythia/tokenizer/node";\n' +
        "const a = await loadPileTokenizer();\n" +
        "const b = await loadTokenizerFile(bundledTokenizerPath());\n" +
        'console.log(JSON.stringify([a.encode("Hello, world!"), b.encode("Hello, world!")]));\n',
    );
    const output = execFileSync(process.execPath, ["main.js"], { cwd: app, encoding: "utf8" });
    expect(JSON.parse(output)).toEqual([
      [12092, 13, 1533, 2],
      [12092, 13, 1533, 2],
    ]);
    const cli = spawnSync(join(app, "node_modules/.bin/pythia-tokenize"), ["encode"], {
      input: '{"text":"Hello, world!"}\n',
      encoding: "utf8",
    });
    expect(cli.stdout).toBe('{"ids":[12092,13,1533,2]}\n');
    const installed = readdirSync(join(app, "node_modules"));
    expect(installed.filter((name) => !name.startsWith("."))).toEqual(["@pythia"]);
  });
});
