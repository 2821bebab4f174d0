import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  sourcemap: true,
  clean: true,
  splitting: true,
  // tfjs stays external: one copy of its engine must be shared with @pythia/model and @pythia/trainer.
  // @resvg/resvg-js is an optional native addon, loaded with import() when present.
  external: [/^@tensorflow\//, "@resvg/resvg-js"],
});
