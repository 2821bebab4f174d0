import { defineConfig } from "vitest/config";

// `pnpm --filter @pythia/eval test:full`: every task's full split on the seed-7 model (minutes).
export default defineConfig({
  resolve: { conditions: ["@pythia/source"] },
  test: {
    include: ["test/**/*.full.test.ts"],
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
  },
});
