import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@pythia/source"] },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/**/*.full.test.ts", "test/webgpu/**", "**/node_modules/**"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
