// The pythia-tokenize CLI, run as users run it: a child process over the built package.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixturePath, packagePath, readJsonl, requireBuild } from "./helpers.js";

const cli = requireBuild();

function run(args: string[], input = "") {
  const result = spawnSync(process.execPath, [cli, ...args], { input, encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("pythia-tokenize", () => {
  it("encode: one {ids} line per {text} line, matching the HF fixtures", () => {
    const cases = readJsonl<{ text: string; ids: number[] }>("cases.jsonl").slice(0, 60);
    const input = cases.map((c) => JSON.stringify({ text: c.text })).join("\n") + "\n";
    const { code, stdout, stderr } = run(["encode"], input);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toEqual(cases.map((c) => ({ ids: c.ids })));
  });

  it("decode: with and without special tokens", () => {
    const input = '{"ids":[12092,13,1533,2,0]}\n';
    expect(run(["decode"], input).stdout).toBe('{"text":"Hello, world!<|endoftext|>"}\n');
    expect(run(["decode", "--skip-special-tokens"], input).stdout).toBe('{"text":"Hello, world!"}\n');
  });

  it("--tokenizer loads another tokenizer.json", () => {
    const { stdout, code } = run(
      ["encode", "--tokenizer", packagePath("data/gpt-neox-20b/tokenizer.json")],
      '{"text":"Hello, world!"}\n',
    );
    expect(code).toBe(0);
    expect(stdout).toBe('{"ids":[12092,13,1533,2]}\n');
  });

  it("count: per file and total; .jsonl files sum their text fields", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-tokenize-"));
    writeFileSync(join(dir, "a.txt"), "Hello, world!");
    writeFileSync(join(dir, "b.jsonl"), '{"text":"Hello"}\n{"text":" world"}\n');
    const { stdout, code } = run(["count", join(dir, "a.txt"), join(dir, "b.jsonl")]);
    expect(code).toBe(0);
    expect(stdout).toBe(`4\t${join(dir, "a.txt")}\n2\t${join(dir, "b.jsonl")}\n6\ttotal\n`);
  });

  const bad: Array<[string, string[], string, RegExp, number]> = [
    ["invalid JSON", ["encode"], '{"text":"ok"}\n{oops\n', /^pythia-tokenize: line 2: invalid JSON/, 1],
    [
      "missing text",
      ["encode"],
      '{"body":"x"}\n',
      /line 1: expected an object with a string "text" field/,
      1,
    ],
    ["empty line", ["encode"], '{"text":"a"}\n\n{"text":"b"}\n', /line 2: empty line/, 1],
    ["bad ids", ["decode"], '{"ids":[1,-2]}\n', /line 1: ids\[1\] is -2/, 1],
    ["unknown command", ["frobnicate"], "", /unknown command "frobnicate"/, 2],
    [
      "missing tokenizer file",
      ["encode", "--tokenizer", "/no/such/tokenizer.json"],
      "",
      /cannot read tokenizer file \/no\/such\/tokenizer\.json \(ENOENT\)/,
      1,
    ],
    [
      "unsupported tokenizer",
      ["encode", "--tokenizer", fixturePath("meta.json")],
      "",
      /meta\.json: field "model"/,
      1,
    ],
  ];
  it.each(bad)("reports %s without a stack trace", (_name, args, input, message, exitCode) => {
    const { code, stderr } = run(args, input);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("stops at the first bad line, after writing the good ones", () => {
    const { stdout, code } = run(["encode"], '{"text":"hello"}\nnot json\n{"text":"never"}\n');
    expect(code).toBe(1);
    expect(stdout).toBe('{"ids":[25521]}\n');
  });

  it("--help and --version", () => {
    expect(run(["--help"]).stdout).toMatch(/Usage: pythia-tokenize/);
    expect(run(["--version"]).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
