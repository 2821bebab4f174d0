// The pythia-tokenize CLI, run as users run it: a child process over the built package.
import { spawnSync } from "node:child_process";
import { linkSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
    ["invalid JSON", ["encode"], '{"text":"ok"}\n{oops\n', /^error: line 2: invalid JSON/, 1],
    [
      "missing text",
      ["encode"],
      '{"body":"x"}\n',
      /line 1: expected an object with a string "text" field/,
      1,
    ],
    // Blank lines are skipped (ADR 0018), so a bad line keeps its number in the file.
    ["bad line after a blank one", ["encode"], '{"text":"a"}\n\n{"b"}\n', /line 3: invalid JSON/, 1],
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
    const version = JSON.parse(readFileSync(packagePath("package.json"), "utf8")).version as string;
    // --version / -V on every command, the train subcommand included (docs/cli-conventions.md).
    for (const args of [["--version"], ["-V"], ["encode", "-V"], ["train", "--version"], ["train", "-V"]]) {
      const result = run(args);
      expect({ args, ...result }).toEqual({ args, code: 0, stdout: `${version}\n`, stderr: "" });
    }
  });

  it("an unknown option is one error line in commander's words, then the usage; exit 2", () => {
    for (const args of [["encode", "--x"], ["--x"], ["count", "-q", "a.txt"]]) {
      const { code, stdout, stderr } = run(args);
      expect(code).toBe(2);
      expect(stdout).toBe("");
      const option = args.find((arg) => arg.startsWith("-"))!;
      expect(stderr).toMatch(
        new RegExp(`^error: unknown option '${option}'\\n\\nUsage: pythia-tokenize <command>`),
      );
    }
  });
});

describe("pythia-tokenize train", () => {
  it("is listed in --help and has its own --help", () => {
    expect(run(["--help"]).stdout).toMatch(/\n {2}train +train a byte-level BPE/);
    const { code, stdout } = run(["train", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: pythia-tokenize train --input FILE\.\.\. --output tokenizer\.json/);
  });

  it("writes the tokenizer.json HF tokenizers trains on the same file", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-tokenize-train-"));
    const out = join(dir, "tokenizer.json");
    const { code, stderr } = run([
      "train",
      "--input",
      fixturePath("bpe-train/enwik8_first100.txt"),
      "--output",
      out,
    ]);
    expect(code).toBe(0);
    // Not a terminal: plain progress lines, then a summary.
    expect(stderr).toMatch(/counted 165 distinct words; learning merges/);
    expect(stderr).toMatch(/wrote .*tokenizer\.json: 422 tokens, 355 merges from 165 distinct words/);
    const ours = JSON.parse(readFileSync(out, "utf8"));
    const hf = JSON.parse(readFileSync(fixturePath("bpe-train/enwik8_first100.tokenizer.json"), "utf8"));
    expect(ours.model).toEqual(hf.model);
    expect(ours.pre_tokenizer).toEqual(hf.pre_tokenizer);
  });

  it("replaces an existing tokenizer.json atomically (a new file renamed over it, not rewritten in place)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-tokenize-train-"));
    const out = join(dir, "tokenizer.json");
    writeFileSync(out, "old");
    // Hard-linked to a witness: writing in place would change the witness too.
    linkSync(out, join(dir, "witness"));
    const { code } = run([
      "train",
      "--quiet",
      "--input",
      fixturePath("bpe-train/enwik8_first100.txt"),
      "--output",
      out,
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8")).model.merges).toHaveLength(355);
    expect(readFileSync(join(dir, "witness"), "utf8")).toBe("old");
    expect(readdirSync(dir).sort()).toEqual(["tokenizer.json", "witness"]);
  });

  it("--vocab-size, --special-tokens and --min-frequency", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-tokenize-train-"));
    const out = join(dir, "tokenizer.json");
    const args = [
      "train",
      "--quiet",
      "--input",
      fixturePath("bpe-train/enwik8_first100.txt"),
      "--output",
      out,
    ];
    const { code, stderr } = run([
      ...args,
      "--vocab-size",
      "100",
      "--special-tokens",
      "<|endoftext|>,<|padding|>",
    ]);
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/counted/);
    const json = JSON.parse(readFileSync(out, "utf8"));
    expect(Object.keys(json.model.vocab)).toHaveLength(100);
    expect(
      json.added_tokens.map((token: { id: number; content: string }) => [token.id, token.content]),
    ).toEqual([
      [0, "<|endoftext|>"],
      [1, "<|padding|>"],
    ]);
    expect(run([...args, "--min-frequency", "1000000"]).code).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8")).model.merges).toEqual([]);
  });

  it.each([
    ["no --input", ["train", "--output", "x.json"], /missing --input FILE/, 2],
    ["no --output", ["train", "--input", "a.txt"], /missing --output PATH/, 2],
    [
      "a bad number",
      ["train", "--input", "a.txt", "--output", "x.json", "--vocab-size", "ten"],
      /--vocab-size expects/,
      2,
    ],
    [
      "an unknown option",
      ["train", "--input", "a.txt", "--vocabsize", "10"],
      /^error: unknown option '--vocabsize'\n\nUsage: pythia-tokenize train /,
      2,
    ],
    [
      "a missing file",
      ["train", "--input", "/nonexistent.txt", "--output", "x.json"],
      /cannot read training file \/nonexistent.txt \(ENOENT\)/,
      1,
    ],
  ] as const)("reports %s without a stack trace", (_name, args, message, exitCode) => {
    const { code, stderr } = run([...args]);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
