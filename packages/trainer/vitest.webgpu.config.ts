import { findVulkanIcdForTests } from "@pythia/model";
import { defineConfig } from "vitest/config";

// `pnpm test:webgpu` (part of `pnpm test`): training on the WebGPU backend. Without a GPU, SwiftShader
// from Debian's chromium package is the Vulkan driver (`.ci/run` installs it); where no driver is found
// the suite is skipped with a warning, except under CI=true, where that is a failure.
const icd = findVulkanIcdForTests();
if (icd === null) {
  const message =
    "no Vulkan driver for the WebGPU tests: apt-get install chromium libvulkan1, or set VK_ICD_FILENAMES";
  if (process.env.CI === "true") {
    throw new Error(message);
  }
  console.warn(`skipping the WebGPU suite: ${message}`);
}

export default defineConfig({
  resolve: { conditions: ["@pythia/source"] },
  test: {
    include: icd === null ? [] : ["test/webgpu/*.test.ts"],
    passWithNoTests: true,
    env: icd === null ? {} : { VK_ICD_FILENAMES: icd },
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
