import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: true,
  sourcemap: true,
  clean: true,
  // tfjs stays external: it is a peer dependency, and one copy of its engine must be shared.
  // @resvg/resvg-js is an optional native addon, loaded with import() when present.
  external: [/^@tensorflow\//, "@resvg/resvg-js"],
});
