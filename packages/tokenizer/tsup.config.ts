import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/node.ts", "src/train.ts", "src/cli.ts"],
  format: ["esm"],
  target: "node20",
  platform: "neutral",
  dts: { entry: ["src/index.ts", "src/node.ts", "src/train.ts"] },
  // The vocabulary ships once, as data/gpt-neox-20b/tokenizer.json: `loadPileTokenizer` imports that
  // file itself (a JSON module, which Node and browser bundlers load), instead of a copy in a chunk.
  external: [/\/data\/gpt-neox-20b\/tokenizer\.json$/],
  sourcemap: false,
  clean: true,
  splitting: true,
});
