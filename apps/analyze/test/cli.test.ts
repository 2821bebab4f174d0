// pythia-analyze, run as users run it: child processes over the built apps. The run analysed is a
// default `pythia-train` run (pythia-14m on the bundled Tiny Shakespeare, Pythia's checkpoint series)
// cut to CI size: 8 steps of 2 × 64 tokens, checkpoints step0, 1, 2, 4, 8.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openTrainingRun } from "@pythia/analyses";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import { beforeAll, describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const trainCli = fileURLToPath(new URL("../../train/dist/cli.js", import.meta.url));
const biasDir = fileURLToPath(new URL("./fixtures/bias", import.meta.url));

function run(args: string[], program = cli) {
  const result = spawnSync(process.execPath, [program, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHIA_BACKEND: "wasm" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

let runDir = "";
let out = "";

beforeAll(() => {
  for (const built of [cli, trainCli]) {
    if (!existsSync(built)) {
      throw new Error(`${built} is missing: run "pnpm build" first`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "pythia-analyze-"));
  runDir = join(dir, "run");
  out = join(dir, "out");
  const trained = run(
    ["--steps", "8", "--batch-size", "2", "--seq-length", "64", "--output", runDir],
    trainCli,
  );
  if (trained.code !== 0) {
    throw new Error(`pythia-train failed:\n${trained.stderr}`);
  }
});

describe("pythia-analyze on a default pythia-train run", () => {
  it("the run has Pythia's checkpoint series", () => {
    expect(
      readdirSync(runDir)
        .filter((name) => name.startsWith("step"))
        .sort(),
    ).toEqual(["step0", "step1", "step2", "step4", "step8"].sort());
  });

  it("usage errors exit 2; analysis errors print one line and exit 1", () => {
    expect(run(["poisson", "--output", "x"]).code).toBe(2);
    // An old spelling still parses (a notice first), so the error is the missing --scores.
    const old = run(["poisson", "--out", "x"]);
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(
      /^warning: --out is deprecated and will be removed in the next minor version; use --output\nerror: required option '--scores <file>' not specified/,
    );
    // --step (tuned-lens's old name for --checkpoint-step) reaches the checkpoint choice.
    const step = run(["tuned-lens", "--run", runDir, "--output", join(tmpdir(), "never"), "--step", "99"]);
    expect(step.code).toBe(1);
    expect(step.stderr).toContain(
      "warning: --step is deprecated and will be removed in the next minor version; use --checkpoint-step\n",
    );
    expect(step.stderr).toMatch(/^error: .*has no checkpoint step99; saved: 0, 1, 2, 4, 8$/m);
    const missing = run(["memorization", "--run", "/nonexistent", "--output", join(tmpdir(), "never")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain("no run.json");
    for (const percent of ["200", "0", "-5"]) {
      const range = run([
        "intervene",
        "--run",
        "/nonexistent",
        "--output",
        join(tmpdir(), "never"),
        "--percent",
        percent,
      ]);
      expect(range.code, percent).toBe(2);
      expect(range.stderr).toMatch(
        new RegExp(
          `^error: option '--percent <p>' argument '${percent}' is invalid\\. expected a percentage above 0 and at most 100, got "${percent}"\n`,
        ),
      );
    }
  });

  it("memorization across checkpoints over the rows each has seen, then the Poisson check", () => {
    const memOut = join(out, "mem");
    const mem = run(["memorization", "--run", runDir, "--output", memOut, "--batch-size", "8"]);
    expect(mem.stderr).toContain("memorized");
    expect(mem.code).toBe(0);
    const summary = readJson(join(memOut, "memorization.json"));
    expect(readFileSync(join(memOut, "memorization.svg"), "utf8")).toContain("memorized (score = 1)");
    expect(summary.checkpoints.map((c: { step: number; count: number }) => [c.step, c.count])).toEqual([
      [1, 2],
      [2, 4],
      [4, 8],
      [8, 16],
    ]);
    const poisson = run([
      "poisson",
      "--scores",
      join(memOut, "memorization-step8.scores"),
      "--bin-size",
      "4",
      "--output",
      memOut,
    ]);
    expect(poisson.code).toBe(0);
    const result = readJson(join(memOut, "poisson.json"));
    expect(result.bins).toBe(4);
    expect(readFileSync(join(memOut, "poisson-qq.svg"), "utf8")).toContain("<svg");
  });

  it("runs on a plain folder of step{N}/ checkpoints with pre-shuffled rows, as on the run itself", async () => {
    // The shape of a GPT-NeoX run converted to HF checkpoints: no run.json, the rows in training order.
    const series = join(out, "series");
    mkdirSync(series, { recursive: true });
    for (const step of [4, 8]) {
      symlinkSync(join(runDir, `step${step}`), join(series, `step${step}`));
    }
    const trainingRun = await openTrainingRun({ dir: runDir });
    const prefix = join(out, "preshuffled");
    const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
    for (const row of trainingRun.rows(0, 16)) {
      builder.addItem(Array.from(row));
      builder.endDocument();
    }
    builder.finalize();
    trainingRun.close();
    const args = ["--checkpoint-steps", "4,8", "--batch-size", "8"];
    const viaRun = run(["memorization", "--run", runDir, "--output", join(out, "mem-run"), ...args]);
    const viaSeries = run([
      "memorization",
      "--run",
      series,
      "--data",
      prefix,
      "--rows-per-step",
      "2",
      "--seq-length",
      "64",
      "--output",
      join(out, "mem-series"),
      ...args,
    ]);
    expect(viaSeries.code).toBe(0);
    expect(viaRun.code).toBe(0);
    for (const step of [4, 8]) {
      const file = `memorization-step${step}.scores`;
      expect(readFileSync(join(out, "mem-series", file))).toEqual(readFileSync(join(out, "mem-run", file)));
    }
    const missing = run(["memorization", "--run", series, "--output", join(out, "mem-none")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("holds checkpoints but no training data");
  });

  it("term frequency (worker threads, resumable counts) and arithmetic accuracy per checkpoint", () => {
    const tfOut = join(out, "tf");
    const args = ["term-frequency", "--run", runDir, "--output", tfOut, "--limit", "2", "--shots", "0,2"];
    const result = run([...args, "--checkpoint-steps", "4,8", "--workers", "2"]);
    expect(result.stderr).toContain("wrote");
    expect(result.code).toBe(0);
    const json = readJson(join(tfOut, "term-frequency.json"));
    expect(json.checkpoints.map((c: { step: number }) => c.step)).toEqual([4, 8]);
    expect(json.checkpoints[0].tasks).toHaveLength(4);
    expect(typeof json.checkpoints[1].tasks[0].gap.delta).toBe("number");
    expect(existsSync(join(tfOut, "accuracy-vs-frequency-multiplication.svg"))).toBe(true);
    expect(readdirSync(join(tfOut, "counts")).sort()).toEqual(["counts-step4.json", "counts-step8.json"]);
    // A rerun reads the cached counts instead of counting again; it is given the old spellings
    // (--out, --steps), which still work for one minor version, with a notice each.
    const again = run([
      "term-frequency",
      "--run",
      runDir,
      "--out",
      tfOut,
      "--limit",
      "2",
      "--shots",
      "0,2",
      "--steps",
      "4,8",
      "--workers",
      "0",
    ]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("step8: 16 rows counted (cached)");
    expect(again.stderr.split("\n").filter((line) => line.startsWith("warning: "))).toEqual([
      "warning: --out is deprecated and will be removed in the next minor version; use --output",
      "warning: --steps is deprecated and will be removed in the next minor version; use --checkpoint-steps",
    ]);
    expect(
      readJson(join(tfOut, "term-frequency.json")).checkpoints.map((c: { step: number }) => c.step),
    ).toEqual([4, 8]);
  });

  it("the intervention retrains the last half with the pronoun swap; gender bias before/after", () => {
    const intervened = join(out, "intervened");
    const result = run(["intervene", "--run", runDir, "--output", intervened, "--percent", "50"]);
    expect(result.stderr).toContain("swapping pronouns from step 5");
    expect(result.code).toBe(0);
    expect(readJson(join(intervened, "intervention.json"))).toMatchObject({ resume_step: 4, to_step: 9 });
    expect(readFileSync(join(intervened, "plots", "loss-vs-baseline.svg"), "utf8")).toContain("<svg");
    const gbOut = join(out, "gb");
    const report = run([
      "gender-bias",
      "--checkpoint",
      join(runDir, "step8"),
      "--compare",
      join(intervened, "step8"),
      "--data-dir",
      biasDir,
      "--output",
      gbOut,
      "--limit",
      "3",
    ]);
    expect(report.stderr).toContain("wrote");
    expect(report.code).toBe(0);
    const json = readJson(join(gbOut, "gender-bias-report.json"));
    expect(json.before.crowsPairs.pairs).toBe(3);
    expect(Object.keys(json.after.winobias.perSubset)).toEqual([
      "type1_pro",
      "type1_anti",
      "type2_pro",
      "type2_anti",
    ]);
    expect(typeof json.change.winobiasBias).toBe("number");
    expect(readFileSync(join(gbOut, "gender-bias-report.svg"), "utf8")).toContain("CrowS pct_stereotype");
    const series = run([
      "gender-bias",
      "--run",
      runDir,
      "--compare-run",
      intervened,
      "--data-dir",
      biasDir,
      "--output",
      join(out, "gbs"),
      "--limit",
      "2",
    ]);
    expect(series.code).toBe(0);
    const points = readJson(join(out, "gbs", "gender-bias-series.json")).steps;
    expect(points.map((p: { step: number }) => p.step)).toEqual([4, 8]);
    // The resume checkpoint is the same model in both runs.
    expect(points[0].intervened).toEqual(points[0].baseline);
    expect(existsSync(join(out, "gbs", "gender-bias-winobias-bias.svg"))).toBe(true);
  });

  it("logit lens across checkpoints with a heatmap", () => {
    const llOut = join(out, "ll");
    const result = run([
      "logit-lens",
      "--run",
      runDir,
      "--text",
      "He said that 3 times 4 is 12",
      "--output",
      llOut,
    ]);
    expect(result.code).toBe(0);
    const json = readJson(join(llOut, "logit-lens.json"));
    expect(json.checkpoints.map((c: { step: number }) => c.step)).toEqual([0, 1, 2, 4, 8]);
    const last = json.checkpoints[4].layers.at(-1);
    expect(last.meanKl).toBeCloseTo(0, 4);
    expect(readFileSync(join(llOut, "logit-lens-kl.svg"), "utf8")).toContain("<svg");
  });

  it("tuned lens: trains translators on a checkpoint, saves them, compares with the logit lens", () => {
    const tlOut = join(out, "tl");
    const args = [
      "tuned-lens",
      "--run",
      runDir,
      "--output",
      tlOut,
      "--checkpoint-step",
      "8",
      "--train-steps",
      "3",
      "--batch-size",
      "2",
    ];
    const result = run([...args, "--tokens", "32", "--text", "He said that 3 times 4 is 12"]);
    expect(result.stderr).toContain("lens step 3");
    expect(result.code).toBe(0);
    expect(readJson(join(tlOut, "tuned-lens-step8", "config.json"))).toMatchObject({
      lens_type: "linear_tuned_lens",
      d_model: 128,
      num_hidden_layers: 6,
    });
    const json = readJson(join(tlOut, "tuned-lens.json"));
    expect(json.layers).toHaveLength(7);
    expect(json.layers[0].tunedLensKl).toBeLessThan(json.layers[0].logitLensKl);
    expect(readFileSync(join(tlOut, "tuned-lens-kl.svg"), "utf8")).toContain("<svg");
  });
});
