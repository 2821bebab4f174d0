import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/cli.ts", "src/run.ts", "src/testing.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: ["src/index.ts", "src/cli.ts", "src/run.ts", "src/testing.ts"] },
  sourcemap: true,
  clean: true,
});
