// The README example runs against the built package on the interop fixture's pytorch_model.bin.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedFixture } from "@pythia/core/testing";
import { packagePath } from "./helpers.js";

const interop = sharedFixture("interop");

describe.runIf(interop !== null)("README", () => {
  it("the opening example lists and reads tensors", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const output = execFileSync(process.execPath, [file], {
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT: join(interop as string, "bin-views/pytorch_model.bin") },
    });
    expect(output).toContain("embed_out.weight F32 [1024, 64]\n");
    expect(output).toMatch(/\nzip file, first values: -?\d\.\d{4} -?\d\.\d{4} -?\d\.\d{4}\n$/);
  });
});
