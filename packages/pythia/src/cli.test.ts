import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { resolveBin } from "./resolve-bin.js";
import { SUBCOMMANDS } from "./subcommands.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

function pythia(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("pythia", () => {
  it("--help lists every subcommand and exits 0", () => {
    const result = pythia("--help");
    expect(result.status).toBe(0);
    for (const subcommand of SUBCOMMANDS) {
      expect(result.stdout).toMatch(new RegExp(`^  ${subcommand.name} +${subcommand.summary}$`, "m"));
    }
  });

  it("--version and -V print the package version", () => {
    expect(pythia("--version")).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
    expect(pythia("-V")).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
  });

  it("no command or an unknown one is a usage error (exit 2)", () => {
    expect(pythia().status).toBe(2);
    const unknown = pythia("trian");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(
      "error: unknown command 'trian'; the commands are train, eval, analyze, hub, model, data, tokenize (see pythia --help)\n",
    );
  });

  it("every subcommand's bin is installed", () => {
    for (const subcommand of SUBCOMMANDS) {
      expect(existsSync(resolveBin(subcommand)), subcommand.bin).toBe(true);
    }
  });

  // The fast-starting ones (the others load tfjs first); the dispatch is the same for all.
  it.each(
    SUBCOMMANDS.filter((subcommand) => ["hub", "tokenize", "data"].includes(subcommand.name)).map(
      (subcommand) => [subcommand.name, subcommand.bin] as const,
    ),
  )("pythia %s --help is %s --help", (name, bin) => {
    const subcommand = SUBCOMMANDS.find((candidate) => candidate.name === name);
    expect(subcommand).toBeDefined();
    const direct = spawnSync(process.execPath, [resolveBin(subcommand!), "--help"], { encoding: "utf8" });
    const viaUmbrella = pythia(name, "--help");
    expect(viaUmbrella.status).toBe(0);
    expect(viaUmbrella.stdout).toContain(bin);
    expect(viaUmbrella.stdout).toBe(direct.stdout);
  });

  it("passes arguments through and forwards the exit code and output", () => {
    const result = spawnSync(process.execPath, [CLI, "tokenize", "encode"], {
      input: '{"text": "Hello, world!"}\n',
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('{"ids":[12092,13,1533,2]}\n');
    const hub = SUBCOMMANDS.find((candidate) => candidate.name === "hub");
    const args = ["push", "--definitely-not-an-option"];
    const direct = spawnSync(process.execPath, [resolveBin(hub!), ...args], { encoding: "utf8" });
    const failing = pythia("hub", ...args);
    expect(failing.status).toBe(2);
    expect(failing.stderr).toMatch(/^error: /);
    expect(failing.stderr).toBe(direct.stderr);
  });
});
