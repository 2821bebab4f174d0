// The README's opening example, run as a user would (an ES module importing the built package), and
// its output compared with the "prints" block under it.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packagePath = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));

describe("README", () => {
  it("the opening example prints what the README says", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const printed = /prints\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(example).toContain("termFrequency");
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    expect(execFileSync(process.execPath, [file], { encoding: "utf8" })).toBe(printed);
  });
});
