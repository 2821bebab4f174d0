import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@pythia/source"] },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // End-to-end runs of pythia-train and every subcommand: about 80 s on 2 idle cores, several times
    // that on a loaded machine, so the limits leave room rather than fail a slow but correct run.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
