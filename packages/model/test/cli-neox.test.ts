// pythia-model import-neox / export-neox, run as users run them: a child process over the built package.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../src/index.js";
import { packagePath, sharedFixture } from "./helpers.js";

const cli = packagePath("dist/cli.js");
try {
  readFileSync(cli);
} catch {
  throw new Error(`${cli} is missing: run "pnpm build" first (the root "pnpm test" builds before testing)`);
}

function run(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const interop = sharedFixture("interop");
/** An --output that exists already. */
const existing = mkdtempSync(join(tmpdir(), "pythia-model-existing-"));
const suite = interop === null ? describe.skip : describe;

suite("pythia-model import-neox / export-neox", () => {
  const root = interop as string;

  it("imports the model-parallel fixture exactly, exports it to 2 ranks and imports that back exactly", async () => {
    const work = mkdtempSync(join(tmpdir(), "pythia-neox-cli-"));
    const imported = run([
      "import-neox",
      "--checkpoint",
      join(root, "neox-pipe-tp2"),
      "--output",
      join(work, "hf"),
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain("pipeline layout, model parallel 2");
    expect(imported.stdout).toContain("28 tensors");
    const reference = (await readSafetensors(join(root, "neox-pipe-tp2/hf/model.safetensors"))).tensors;
    const check = async (file: string) => {
      const ours = (await readSafetensors(file)).tensors;
      for (const [name, tensor] of reference) {
        expect(ours.get(name)!.data, name).toEqual(tensor.data);
      }
    };
    await check(join(work, "hf/model.safetensors"));
    const exported = run([
      "export-neox",
      "--checkpoint",
      join(work, "hf"),
      "--output",
      join(work, "neox"),
      "--model-parallel",
      "2",
      "--layout",
      "sequential",
      "--step",
      "143000",
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(join(work, "neox/latest"), "utf8")).toBe("global_step143000");
    const again = run([
      "import-neox",
      "--checkpoint",
      join(work, "neox"),
      "--output",
      join(work, "hf2"),
      "--no-tokenizer",
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("sequential layout, model parallel 2");
    await check(join(work, "hf2/model.safetensors"));
  });

  it.each([
    [
      ["import-neox", "--checkpoint", "/nonexistent/neox", "--output", "/tmp/x"],
      /cannot list the checkpoint folder/,
      1,
    ],
    [
      ["export-neox", "--checkpoint", "x", "--output", "y", "--layout", "ring"],
      /Allowed choices are pipeline, sequential/,
      2,
    ],
    [
      ["export-neox", "--checkpoint", "x", "--output", "y", "--model-parallel", "two"],
      /expected a non-negative integer/,
      2,
    ],
    [
      ["export-neox", "--checkpoint", "x", "--output", "y", "--model-parallel", "0"],
      /^error: option '--model-parallel <n>' argument '0' is invalid\. expected a positive integer, got "0"\n/,
      2,
    ],
    [
      ["export-neox", "--checkpoint", "x", "--output", existing],
      new RegExp(
        `^error: ${existing} already exists; choose a new --output or pass --overwrite to replace it\n$`,
      ),
      1,
    ],
  ])("reports %j in one line", (args, message, exitCode) => {
    const { code, stderr } = run(args as string[]);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message as RegExp);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
