// The README's opening example runs against the built package and prints what its comment claims.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packagePath } from "./helpers.js";

describe("README", () => {
  it("the opening example prints the batch it shows", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const expected = [...example.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
    expect(expected).toHaveLength(1);
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const output = execFileSync(process.execPath, [file], { encoding: "utf8" });
    expect(output.trimEnd().split("\n")).toEqual(expected);
  });

  it("the example script runs", () => {
    const output = execFileSync(process.execPath, [packagePath("examples/write-and-read.mjs")], {
      encoding: "utf8",
    });
    expect(output).toContain("document 2: O Romeo, Romeo!<|endoftext|>");
    expect(output).toContain("the order serves 7 samples");
  });
});
