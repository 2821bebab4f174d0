// pythia-analyze, run as users run it: a child process over the built app, on a tiny trainer run
// (Pile vocabulary, hidden size 16) so that every analysis runs end to end in CI-sized form.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import { initCompute } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { train } from "@pythia/trainer";
import { beforeAll, describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const biasDir = "/work/shared/data/bias";

function run(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHIA_BACKEND: "wasm" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let runDir = "";
let out = "";

beforeAll(async () => {
  if (!existsSync(cli)) {
    throw new Error(`${cli} is missing: run "pnpm build" first`);
  }
  await initCompute({ backend: "wasm" });
  const tokenizer = await loadPileTokenizer();
  const dir = mkdtempSync(join(tmpdir(), "pythia-analyze-"));
  const prefix = join(dir, "corpus_text_document");
  const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
  for (let doc = 0; doc < 30; doc++) {
    const text = `He said that ${doc} times ${doc % 7} is ${doc * (doc % 7)} and his friend added ${doc} plus 3. Then he left with him.`;
    builder.addItem([...tokenizer.encode(text), 0]);
    builder.endDocument();
  }
  builder.finalize();
  runDir = join(dir, "run");
  out = join(dir, "out");
  await train({
    config: {
      model: {
        vocabSize: 50304,
        hiddenSize: 16,
        numLayers: 1,
        numHeads: 2,
        intermediateSize: 32,
        rotaryPct: 0.25,
        maxPositionEmbeddings: 512,
      },
      steps: 4,
      batchSize: 2,
      microBatchSize: 2,
      seqLength: 64,
      lr: 3e-3,
      checkpointEvery: 2,
      seed: 3,
      evalBatches: 1,
    },
    data: { kind: "index-map", prefix },
    out: runDir,
  });
});

describe("pythia-analyze", () => {
  it("usage errors exit 2; analysis errors print one line and exit 1", () => {
    expect(run(["poisson", "--out", "x"]).code).toBe(2);
    const missing = run(["memorization", "--run", "/nonexistent", "--out", join(tmpdir(), "never")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain("no run.json");
  });

  it("memorization across checkpoints, then the Poisson check with a Q-Q plot", () => {
    const memOut = join(out, "mem");
    const mem = run(["memorization", "--run", runDir, "--out", memOut, "--batch-size", "4"]);
    expect(mem.stderr).toContain("memorized");
    expect(mem.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(memOut, "memorization.json"), "utf8"));
    expect(summary.checkpoints.map((c: { step: number; count: number }) => [c.step, c.count])).toEqual([
      [1, 2],
      [2, 4],
      [4, 8],
    ]);
    const poisson = run([
      "poisson",
      "--scores",
      join(memOut, "memorization-step4.scores"),
      "--bin-size",
      "2",
      "--out",
      memOut,
    ]);
    expect(poisson.code).toBe(0);
    const result = JSON.parse(readFileSync(join(memOut, "poisson.json"), "utf8"));
    expect(result.bins).toBe(4);
    expect(readFileSync(join(memOut, "poisson-qq.svg"), "utf8")).toContain("<svg");
  });

  it("term frequency and arithmetic accuracy per checkpoint, with plots", () => {
    const tfOut = join(out, "tf");
    const result = run(["term-frequency", "--run", runDir, "--out", tfOut, "--limit", "2", "--shots", "0,2"]);
    expect(result.stderr).toContain("wrote");
    expect(result.code).toBe(0);
    const json = JSON.parse(readFileSync(join(tfOut, "term-frequency.json"), "utf8"));
    expect(json.checkpoints).toHaveLength(3);
    expect(json.checkpoints[0].tasks).toHaveLength(4);
    expect(typeof json.checkpoints[1].tasks[0].gap.delta).toBe("number");
    expect(existsSync(join(tfOut, "accuracy-vs-frequency-multiplication.svg"))).toBe(true);
  });

  it.runIf(existsSync(biasDir))("gender bias before/after on a handful of items", () => {
    const gbOut = join(out, "gb");
    const result = run([
      "gender-bias",
      "--checkpoint",
      join(runDir, "step2"),
      "--compare",
      join(runDir, "step4"),
      "--data-dir",
      biasDir,
      "--out",
      gbOut,
      "--limit",
      "2",
    ]);
    expect(result.stderr).toContain("wrote");
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(gbOut, "gender-bias-report.json"), "utf8"));
    expect(report.before.crowsPairs.pairs).toBe(2);
    expect(typeof report.change.winobiasBias).toBe("number");
  });

  it("logit lens across checkpoints with a heatmap", () => {
    const llOut = join(out, "ll");
    const result = run([
      "logit-lens",
      "--run",
      runDir,
      "--text",
      "He said that 3 times 4 is 12",
      "--out",
      llOut,
    ]);
    expect(result.code).toBe(0);
    const json = JSON.parse(readFileSync(join(llOut, "logit-lens.json"), "utf8"));
    expect(json.checkpoints.map((c: { step: number }) => c.step)).toEqual([0, 1, 2, 4]);
    const last = json.checkpoints[3].layers.at(-1);
    expect(last.meanKl).toBeCloseTo(0, 4);
    expect(readFileSync(join(llOut, "logit-lens-kl.svg"), "utf8")).toContain("<svg");
  });
});
