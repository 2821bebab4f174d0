// The same package code in a browser: `@pythia/model/browser` bundled for the browser (no Node
// built-ins on its path), run in headless Chromium on WebGPU (navigator.gpu; SwiftShader where there is
// no GPU), gives the logits Node computes on wasm for the same seeded model.
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GPTNeoXModel, initCompute, parseConfig } from "../../src/index.js";
import { packagePath } from "../helpers.js";

const CHROMIUM = process.env.PYTHIA_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(CHROMIUM) && process.env.CI === "true") {
  throw new Error(`${CHROMIUM} is missing: apt-get install chromium (CI runs the browser test)`);
}

const config = {
  vocabSize: 96,
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 128,
  rotaryPct: 0.25,
  maxPositionEmbeddings: 64,
};
const ids = [
  [5, 17, 3, 90, 44, 12, 7, 61, 2, 33, 80, 9, 14, 70, 1, 50, 22, 35],
  [8, 8, 41, 0, 95, 63, 27, 11, 58, 3, 19, 77, 24, 6, 88, 31, 45, 2],
];

const ENTRY = `
import { GPTNeoXModel, initCompute, parseConfig } from "@pythia/model/browser";
window.runPythia = async (configInput, ids) => {
  const info = await initCompute({ backend: "webgpu" });
  const model = GPTNeoXModel.initialize({ config: parseConfig(configInput), seed: 3 });
  const { logits } = model.forward(ids);
  return { backend: info.backend, provider: info.webgpu.provider, logits: Array.from(await logits.data()) };
};
`;

describe.runIf(existsSync(CHROMIUM))("@pythia/model/browser in Chromium", () => {
  let server: Server;
  let browser: Browser;
  let url: string;
  let nodeImports: string[];

  beforeAll(async () => {
    const outdir = packagePath(".tmp/browser-bundle");
    const result = await build({
      stdin: { contents: ENTRY, resolveDir: packagePath("."), loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      splitting: true,
      outdir,
      conditions: ["@pythia/source"],
      external: ["node:*"], // any that remained would fail to load in the page: checked below
      metafile: true,
      logLevel: "error",
    });
    // Node built-ins may appear only in chunks that nothing loads in a browser (wasm-threads, Node-only).
    nodeImports = Object.entries(result.metafile.outputs).flatMap(([file, output]) =>
      output.imports.some((i) => i.path.startsWith("node:")) ? [file] : [],
    );
    const page = `<!doctype html><script type="module" src="/stdin.js"></script>`;
    server = createServer((request, response) => {
      const path = request.url === "/" ? null : join(outdir, (request.url ?? "").replace(/^\//, ""));
      (path === null ? Promise.resolve(page) : readFile(path)).then(
        (body) => {
          response.writeHead(200, { "content-type": path === null ? "text/html" : "text/javascript" });
          response.end(body);
        },
        () => {
          response.writeHead(404);
          response.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--enable-unsafe-webgpu",
        "--enable-features=Vulkan",
        "--use-vulkan=swiftshader",
        "--use-webgpu-adapter=swiftshader",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it("runs on navigator.gpu and matches Node's wasm logits", async () => {
    expect(
      nodeImports.every((file) => /wasm-threads/.test(file)),
      nodeImports.join(", "),
    ).toBe(true);
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => "runPythia" in globalThis);
    const fromBrowser = (await page.evaluate(
      ([c, i]) =>
        (globalThis as unknown as { runPythia: (c: unknown, i: unknown) => unknown }).runPythia(c, i),
      [config, ids] as const,
    )) as { backend: string; provider: string; logits: number[] };
    expect(fromBrowser.backend).toBe("webgpu");
    expect(fromBrowser.provider).toBe("browser");
    await initCompute({ backend: "wasm" });
    const model = GPTNeoXModel.initialize({ config: parseConfig(config), seed: 3 });
    const reference = await model.forward(ids).logits.data();
    expect(fromBrowser.logits).toHaveLength(reference.length);
    let worst = 0;
    fromBrowser.logits.forEach((value, i) => {
      worst = Math.max(worst, Math.abs(value - (reference[i] as number)));
    });
    expect(worst, `max |Δlogit| browser WebGPU vs Node wasm = ${worst}`).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });
});
