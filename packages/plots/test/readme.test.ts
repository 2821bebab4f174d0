// The README example runs against the built package and writes the chart it describes.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packagePath = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));

describe("README", () => {
  it("the opening example writes loss.svg (and loss.png when @resvg/resvg-js loads)", async () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const cwd = mkdtempSync(join(tmpdir(), "pythia-plots-readme-"));
    execFileSync(process.execPath, [file], { cwd, encoding: "utf8" });
    const svg = readFileSync(join(cwd, "loss.svg"), "utf8");
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain(">loss<"); // the title
    expect(svg).toContain(">nats/token<"); // the y axis name
    let resvg = true;
    try {
      await import("@resvg/resvg-js");
    } catch {
      resvg = false;
    }
    expect(existsSync(join(cwd, "loss.png"))).toBe(resvg);
  });
});
