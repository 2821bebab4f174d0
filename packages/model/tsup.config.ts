import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/browser.ts", "src/cli.ts", "src/cli-options.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: ["src/index.ts", "src/browser.ts", "src/cli-options.ts"] },
  sourcemap: true,
  clean: true,
  splitting: true,
  // tfjs stays external: it is a peer dependency, and one copy of its engine must be shared.
  external: [/^@tensorflow\//],
});
