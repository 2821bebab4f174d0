// The README's opening example, run against the source package on the seed-7 checkpoint.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { packagePath, sharedData, sharedFixture } from "./helpers.js";

const checkpoint = sharedFixture("eval/model-seed7");
const dataDir = sharedData("eval");

describe.runIf(checkpoint !== null && dataDir !== null)("README", () => {
  it("the opening example evaluates two tasks and prints the table", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const output = execFileSync(process.execPath, [file], {
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT: checkpoint as string, DATA_DIR: dataDir as string },
    });
    expect(output).toMatch(/^\|Task *\|Version\|Metric *\| Value\|/);
    expect(output).toMatch(/\|wsc *\|0 +\|acc +\|0\.\d{4}\|±\|0\.\d{4}\|/);
    expect(output).toMatch(/\|piqa *\|0 +\|acc +\|/);
  });
});
