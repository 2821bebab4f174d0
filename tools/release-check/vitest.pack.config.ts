import { defineConfig } from "vitest/config";

/** `pnpm test:pack`: packs the tarballs and installs them with npm in a fresh folder (slow, uses the npm cache). */
export default defineConfig({
  test: {
    include: ["src/**/*.pack.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
