// The README example runs against the built package on the full-vocabulary pythia-tiny reference
// checkpoint (shared fixtures) and prints a loss.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findVulkanIcdForTests } from "../src/swiftshader.js";
import { packagePath, sharedFixture } from "./helpers.js";

const checkpoint = sharedFixture("model/pythia-tiny");
// The opening example runs on WebGPU: SwiftShader where there is no GPU (CI installs it).
const icd = findVulkanIcdForTests();
if (icd === null && process.env.CI === "true") {
  throw new Error("no Vulkan driver for the README's WebGPU example: apt-get install chromium libvulkan1");
}

describe.runIf(checkpoint !== null)("README", () => {
  it.runIf(icd !== null)("the opening example scores a sentence on WebGPU", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const output = execFileSync(process.execPath, [file], {
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT: checkpoint as string, VK_ICD_FILENAMES: icd as string },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // pythia-tiny has random weights: about ln(50304) ≈ 10.8 nats per token.
    expect(output).toMatch(/^loss 1\d\.\d{3} nats\/token\n$/);
  });

  it("examples/score.mjs prints perplexity and per-token log-probabilities", () => {
    const output = execFileSync(
      process.execPath,
      [packagePath("examples/score.mjs"), checkpoint as string, "Hello, world!"],
      { encoding: "utf8" },
    );
    expect(output).toMatch(/backend wasm, 4 tokens\nloss \d+\.\d{4} nats\/token, perplexity \d+\.\d{2}\n/);
    expect(output).toContain('","');
  });
});
