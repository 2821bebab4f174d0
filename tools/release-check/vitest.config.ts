import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    exclude: ["src/**/*.pack.test.ts"],
    testTimeout: 120_000,
  },
});
