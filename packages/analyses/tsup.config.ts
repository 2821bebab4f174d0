import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/term-frequency-worker.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: ["src/index.ts"] },
  sourcemap: true,
  clean: true,
  // tfjs stays external: it is a peer dependency, and one copy of its engine must be shared.
  // @resvg/resvg-js is an optional native addon, loaded with import() when present.
  external: [/^@tensorflow\//, "@resvg/resvg-js"],
});
