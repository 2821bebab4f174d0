import { defineConfig } from "vitest/config";
import { webgpuSuite } from "./src/swiftshader.js";

// `pnpm test:webgpu` (part of `pnpm test`): the model's reference tests on the WebGPU backend. Without a
// GPU, SwiftShader from Debian's chromium package is the Vulkan driver (`.ci/run` installs it).
const suite = webgpuSuite(["src/gpt-neox.test.ts", "src/kernels/webgpu/*.test.ts", "test/webgpu/*.test.ts"]);

export default defineConfig({
  resolve: { conditions: ["@pythia/source"] },
  test: {
    ...suite,
    env: { ...suite.env, PYTHIA_TEST_BACKEND: "webgpu" },
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
