import { webgpuSuite } from "@pythia/model";
import { defineConfig } from "vitest/config";

// `pnpm test:webgpu` (part of `pnpm test`) on the WebGPU backend. Without a GPU, SwiftShader from Debian's
// chromium package is the Vulkan driver (`.ci/run` installs it).
export default defineConfig({
  resolve: { conditions: ["@pythia/source"] },
  test: { ...webgpuSuite(["test/webgpu/*.test.ts"]), testTimeout: 300_000, hookTimeout: 300_000 },
});
