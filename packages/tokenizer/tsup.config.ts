import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/node.ts", "src/train.ts", "src/cli.ts"],
  format: ["esm"],
  target: "node20",
  platform: "neutral",
  dts: { entry: ["src/index.ts", "src/node.ts", "src/train.ts"] },
  // No source maps: the lazily loaded tokenizer chunk (tokenizer.json as a module) would carry a
  // 4 MB map of a JSON file.
  sourcemap: false,
  clean: true,
  splitting: true,
});
