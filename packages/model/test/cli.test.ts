// pythia-model, run as users run it: a child process over the built package.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../src/index.js";
import { fixturePath, packagePath } from "./helpers.js";

const cli = packagePath("dist/cli.js");
try {
  readFileSync(cli);
} catch {
  throw new Error(`${cli} is missing: run "pnpm build" first (the root "pnpm test" builds before testing)`);
}

function run(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHIA_BACKEND: "wasm" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("pythia-model", () => {
  it("logits: the fixture's logits and HF loss, from {input_ids} or a bare array", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-model-cli-"));
    const out = join(dir, "out.safetensors");
    const { code, stdout, stderr } = run([
      "logits",
      "--checkpoint",
      fixturePath("pythia-micro"),
      "--tokens",
      fixturePath("pythia-micro/tokens.json"),
      "--output",
      out,
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain("backend wasm");
    expect(stdout).toContain("logits [2, 16, 512]");
    const ours = (await readSafetensors(out)).tensors;
    const reference = (await readSafetensors(fixturePath("pythia-micro/logits.safetensors"))).tensors;
    const a = ours.get("logits")!.data as Float32Array;
    const b = reference.get("logits")!.data as Float32Array;
    expect(ours.get("logits")!.shape).toEqual([2, 16, 512]);
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-4);
    expect(
      Math.abs((ours.get("loss")!.data[0] as number) - (reference.get("loss")!.data[0] as number)),
    ).toBeLessThan(1e-5);
    const bare = join(dir, "bare.json");
    writeFileSync(
      bare,
      JSON.stringify(JSON.parse(readFileSync(fixturePath("pythia-micro/tokens.json"), "utf8")).input_ids),
    );
    expect(
      run([
        "logits",
        "--checkpoint",
        fixturePath("pythia-micro"),
        "--tokens",
        bare,
        "--output",
        join(dir, "b.safetensors"),
      ]).code,
    ).toBe(0);
  });

  it("info: presets and checkpoints", () => {
    expect(JSON.parse(run(["info", "--preset", "pythia-410m", "--json"]).stdout).parameters).toEqual({
      total: 405_334_016,
      nonEmbedding: 302_311_424,
    });
    expect(run(["info", "--checkpoint", fixturePath("pythia-micro")]).stdout).toMatch(/parameters +58,240/);
  });

  it("generate: greedy continuation of a prompt", () => {
    const { code, stdout, stderr } = run([
      "generate",
      "--checkpoint",
      fixturePath("pythia-micro"),
      "--prompt",
      "!",
      "--max-new-tokens",
      "5",
    ]);
    expect(code).toBe(0);
    expect(stdout.startsWith("!")).toBe(true);
    expect(stderr).toMatch(/5 tokens, finished by length|finished by eos/);
  });

  it("generate --backend cpu: no tfjs notice on stderr, only the backend line and the summary", () => {
    const { code, stdout, stderr } = run([
      "generate",
      "--checkpoint",
      fixturePath("pythia-micro"),
      "--prompt",
      "!",
      "--max-new-tokens",
      "3",
      "--backend",
      "cpu",
    ]);
    expect(code).toBe(0);
    expect(stdout.startsWith("!")).toBe(true);
    expect(stderr).toContain("backend cpu");
    expect(stderr).not.toContain("TensorFlow.js in Node.js");
    expect(stderr).not.toContain("=====");
  });

  const bad: Array<[string, string[], RegExp, number]> = [
    ["a missing checkpoint", ["info", "--checkpoint", "/no/such/dir"], /\/no\/such\/dir: no config\.json/, 1],
    [
      "both --checkpoint and --preset",
      ["info", "--preset", "70m", "--checkpoint", "x"],
      /exactly one of --checkpoint DIR or --preset NAME/,
      2,
    ],
    ["no input", ["info"], /^error: info needs exactly one of --checkpoint DIR or --preset NAME\n$/, 2],
    ["an unknown preset", ["info", "--preset", "pythia-3b"], /unknown preset "pythia-3b"/, 2],
    [
      "malformed tokens",
      ["logits", "--checkpoint", "x", "--tokens", fixturePath("HF-FIXTURES.md"), "--output", "o"],
      /HF-FIXTURES\.md: cannot read it as JSON/,
      1,
    ],
    [
      "a prompt outside the vocabulary",
      ["generate", "--checkpoint", fixturePath("pythia-micro"), "--prompt", "Hello, world"],
      /prompt token \d+ is outside the model's vocabulary/,
      1,
    ],
    [
      "an unknown backend",
      ["generate", "--checkpoint", "x", "--prompt", "a", "--backend", "webgl"],
      /Allowed choices are auto, tfjs-node-gpu, webgpu/,
      2,
    ],
    [
      "a --top-p above 1",
      ["generate", "--checkpoint", fixturePath("pythia-micro"), "--prompt", "!", "--top-p", "5"],
      /^error: option '--top-p <p>' argument '5' is invalid\. expected a probability mass above 0 and at most 1, got "5"\n/,
      2,
    ],
    [
      "a --top-p of 0",
      ["generate", "--checkpoint", fixturePath("pythia-micro"), "--prompt", "!", "--top-p", "0"],
      /argument '0' is invalid\. expected a probability mass above 0 and at most 1/,
      2,
    ],
    [
      "a negative --temperature",
      ["generate", "--checkpoint", fixturePath("pythia-micro"), "--prompt", "!", "--temperature", "-1"],
      /^error: option '--temperature <t>' argument '-1' is invalid\. expected a temperature of 0 \(greedy\) or more, got "-1"\n/,
      2,
    ],
  ];
  it.each(bad)("reports %s in one line", (_name, args, message, exitCode) => {
    const { code, stderr } = run(args);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
