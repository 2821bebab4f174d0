// The README's examples run against the built package and print what they claim.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packagePath, requireBuild } from "./helpers.js";

function codeBlocks(language: string): string[] {
  const readme = readFileSync(packagePath("README.md"), "utf8");
  return [...readme.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map(
    (m) => m[1] as string,
  );
}

describe("README", () => {
  it("the opening example prints the ids, text and offsets it shows", () => {
    requireBuild();
    const example = codeBlocks("js")[0] as string;
    // Self-reference: a file inside the package resolves "@pythia/tokenizer" through its exports map.
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const output = execFileSync(process.execPath, [file], { encoding: "utf8" });
    const expected = [...example.matchAll(/\/\/ (.*)$/gm)].map((m) => m[1]);
    expect(output.trimEnd().split("\n")).toEqual(expected);
  });

  it("the training example prints the merges and ids it shows", () => {
    requireBuild();
    const example = codeBlocks("js").find((block) => block.includes("@pythia/tokenizer/train")) as string;
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-train-example.mjs");
    writeFileSync(file, example);
    const output = execFileSync(process.execPath, [file], { encoding: "utf8" });
    const expected = [...example.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
    expect(output.trimEnd().split("\n")).toEqual(expected);
  });

  it("the example script runs", () => {
    const output = execFileSync(process.execPath, [packagePath("examples/encode.mjs")], { encoding: "utf8" });
    expect(output).toContain("28 tokens: [51,14519,48,27,1292,");
    expect(output).toContain("decode(ids) round-trips: true");
  });
});
