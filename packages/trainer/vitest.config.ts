import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@pythia/source"] },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The WebGPU suite runs through vitest.webgpu.config.ts (it needs a Vulkan driver).
    exclude: ["test/webgpu/**", "**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
