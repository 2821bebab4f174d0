import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installTarballs, packPackages } from "./pack-and-install.js";
import { publishedPackages, REPO_ROOT } from "./workspace-packages.js";

// `pnpm test:pack`: what a user gets from `npm install` of the published tarballs, in a fresh folder
// outside the repository (so nothing resolves to the workspace).

const created: string[] = [];
let tarballs: Map<string, string>;

function node(cwd: string, script: string) {
  const path = join(cwd, `script-${created.length}-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(path, script);
  return spawnSync(process.execPath, [path], { cwd, encoding: "utf8", timeout: 120_000 });
}

beforeAll(() => {
  const packs = mkdtempSync(join(tmpdir(), "pythia-packs-"));
  created.push(packs);
  tarballs = packPackages(publishedPackages(), packs);
});

afterAll(() => {
  for (const dir of created) {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("the packed tarballs installed with npm", () => {
  it("every published package packs, the umbrella included", () => {
    expect([...tarballs.keys()]).toEqual(
      expect.arrayContaining([
        "@pythia/cli",
        "@pythia/train-app",
        "@pythia/analyze-app",
        "@pythia/tokenizer",
      ]),
    );
  });

  it("the tokenizer alone: no dependencies, exact ids, and its CLI", () => {
    const dir = installTarballs([tarballs.get("@pythia/tokenizer")!], "tokenizer");
    created.push(dir);
    expect(readdirSync(join(dir, "node_modules")).filter((name) => !name.startsWith("."))).toEqual([
      "@pythia",
    ]);
    expect(readdirSync(join(dir, "node_modules", "@pythia"))).toEqual(["tokenizer"]);
    const result = node(
      dir,
      `import { loadPileTokenizer } from "@pythia/tokenizer";
const tokenizer = await loadPileTokenizer();
const ids = tokenizer.encode("Hello, world!");
console.log(JSON.stringify({ ids, text: tokenizer.decode(ids) }));`,
    );
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ ids: [12092, 13, 1533, 2], text: "Hello, world!" });
    const cli = spawnSync("npx", ["--no-install", "pythia-tokenize", "encode"], {
      cwd: dir,
      input: '{"text": "Hello, world!"}\n',
      encoding: "utf8",
    });
    expect(cli.stdout).toBe('{"ids":[12092,13,1533,2]}\n');
    expect(cli.status).toBe(0);
  });

  describe("everything, through the pythia command", () => {
    let dir: string;
    beforeAll(() => {
      dir = installTarballs([...tarballs.values()], "all");
      created.push(dir);
    });

    it("tfjs comes as tfjs-core with the cpu and wasm backends, one version, not the @tensorflow/tfjs bundle", () => {
      const tensorflow = join(dir, "node_modules", "@tensorflow");
      expect(readdirSync(tensorflow).sort()).toEqual(["tfjs-backend-cpu", "tfjs-backend-wasm", "tfjs-core"]);
      const versions = readdirSync(tensorflow).map(
        (name) =>
          (JSON.parse(readFileSync(join(tensorflow, name, "package.json"), "utf8")) as { version: string })
            .version,
      );
      expect(new Set(versions).size, versions.join(", ")).toBe(1);
    });

    it("a model forward pass matches transformers' loss on the tiny-v512-f32 fixture", () => {
      const fixture = join(REPO_ROOT, "packages", "model", "test", "fixtures", "tiny-v512-f32");
      const reference = JSON.parse(readFileSync(join(fixture, "reference.json"), "utf8")) as { loss: number };
      const result = node(
        dir,
        `import * as tf from "@tensorflow/tfjs-core";
import { initCompute, loadCheckpoint, nextTokenLoss } from "@pythia/model";
import { readFileSync } from "node:fs";
await initCompute({ backend: "wasm" });
const fixture = ${JSON.stringify(fixture)};
const ids = JSON.parse(readFileSync(fixture + "/tokens.json", "utf8")).input_ids;
const model = await loadCheckpoint({ dir: fixture, trainable: false });
const { logits } = model.forward(ids);
const { loss } = nextTokenLoss(logits, tf.tensor2d(ids, undefined, "int32"));
console.log(JSON.stringify({ shape: logits.shape, loss: (await loss.data())[0] }));`,
      );
      expect(result.status, result.stderr).toBe(0);
      const output = JSON.parse(result.stdout) as { shape: number[]; loss: number };
      expect(output.shape).toEqual([2, 12, 512]);
      expect(Math.abs(output.loss - reference.loss), `loss ${output.loss} vs ${reference.loss}`).toBeLessThan(
        1e-4,
      );
    });

    it("npx pythia train --steps 2 trains a tiny run and writes its checkpoints", () => {
      const lines = ["First Citizen:", "Before we proceed any further, hear me speak."];
      for (let index = 0; index < 100; index++) {
        lines.push(`All: Speak, speak. You are all resolved rather to die than to famish? ${index}`);
      }
      writeFileSync(join(dir, "tiny.txt"), `${lines.join("\n")}\n`);
      const args = ["pythia", "train", "--steps", "2", "--preset", "pythia-14m", "--input", "tiny.txt"];
      args.push("--seq-length", "16", "--batch-size", "1", "--checkpoint-every", "2", "--output", "run");
      const result = spawnSync("npx", ["--no-install", ...args], {
        cwd: dir,
        encoding: "utf8",
        timeout: 300_000,
      });
      expect(result.status, result.stderr).toBe(0);
      const metrics = readFileSync(join(dir, "run", "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { type: string; step: number; loss: number });
      expect(metrics.filter((entry) => entry.type === "train").map((entry) => entry.step)).toEqual([1, 2]);
      for (const entry of metrics) {
        expect(Number.isFinite(entry.loss)).toBe(true);
      }
      for (const step of ["step0", "step1", "step2"]) {
        expect(existsSync(join(dir, "run", step, "model.safetensors")), step).toBe(true);
      }
    });

    it("npx pythia --version and an unknown command", () => {
      const version = spawnSync("npx", ["--no-install", "pythia", "--version"], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(version.stdout).toBe("0.1.0\n");
      const unknown = spawnSync("npx", ["--no-install", "pythia", "nope"], { cwd: dir, encoding: "utf8" });
      expect(unknown.status).toBe(2);
    });
  });
});
