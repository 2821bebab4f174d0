// The main entry must run in browsers: bundle it for the browser platform (which fails on any
// `node:` import) and run the bundle in a bare VM context holding only what browsers provide.
import { build } from "esbuild";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { packagePath, requireBuild } from "./helpers.js";

describe("browser build of the main entry", () => {
  it("bundles without Node built-ins and encodes in a context without Node globals", async () => {
    requireBuild();
    const result = await build({
      entryPoints: [packagePath("dist/index.js")],
      bundle: true,
      platform: "browser",
      format: "iife",
      globalName: "PythiaTokenizer",
      write: false,
      logLevel: "silent",
    });
    const code = result.outputFiles[0]?.text ?? "";
    expect(code).not.toMatch(/require\(["']node:/);
    const context: Record<string, unknown> = { TextEncoder, TextDecoder };
    runInNewContext(`${code}\nglobalThis.PythiaTokenizer = PythiaTokenizer;`, context);
    expect(context.process).toBeUndefined();
    const api = context.PythiaTokenizer as {
      loadPileTokenizer: () => Promise<{ encode: (text: string) => number[] }>;
    };
    const tokenizer = await api.loadPileTokenizer();
    expect(Array.from(tokenizer.encode("Hello, world!"))).toEqual([12092, 13, 1533, 2]);
  });
});
