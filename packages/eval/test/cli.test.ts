// pythia-eval, run as users run it: a child process over the built package.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointDir, writeManifest } from "@pythia/core/run";
import { initCompute } from "@pythia/model";
import { describe, expect, it } from "vitest";
import { packagePath, readHarnessFixture, sharedData, sharedFixture } from "./helpers.js";
import { runWithDamagedCheckpoint } from "./damaged-run.js";

const cli = packagePath("dist/cli.js");
try {
  readFileSync(cli);
} catch {
  throw new Error(`${cli} is missing: run "pnpm build" first (the root "pnpm test" builds before testing)`);
}

function run(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHIA_BACKEND: "wasm" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dataDir = sharedData("eval");
const checkpoint = sharedFixture("eval/model-seed7");
const pythia = sharedData("pythia/evals/pythia-v1/pythia-70m/zero-shot/70m_step0.json");

describe("pythia-eval", () => {
  it("rejects an unknown task with the list of tasks (exit 2)", () => {
    const { code, stderr } = run(["requests", "--tasks", "nope", "--data-dir", ".", "--output", "x.jsonl"]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown task "nope"');
    const old = run(["requests", "--task", "nope", "--data-dir", ".", "--out", "x.jsonl"]);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('unknown task "nope"');
    const bad = run(["run", "--checkpoint", ".", "--tasks", "piqa,nope", "--data-dir", ".", "--output", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("known tasks: lambada_openai");
  });

  it("refuses an empty task list before loading anything (exit 2)", () => {
    const missing = join(tmpdir(), "pythia-eval-no-such-checkpoint");
    for (const args of [
      ["run", "--checkpoint", missing, "--tasks", "", "--data-dir", ".", "--output", "x.json"],
      ["run", "--checkpoint", missing, "--tasks", " , ", "--data-dir", ".", "--output", "x.json"],
      ["sweep", "--run", missing, "--tasks", "", "--data-dir", ".", "--output", "x"],
      ["requests", "--tasks", "", "--data-dir", ".", "--output", "x.jsonl"],
    ]) {
      const { code, stderr } = run(args);
      expect(code, args.join(" ")).toBe(2);
      const errors = stderr.split("\n").filter((line) => line.startsWith("error: "));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain("give at least one task (lambada_openai,");
      expect(stderr).not.toContain("RangeError");
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  it.runIf(dataDir !== null)("requests: every request of every doc, in harness order", () => {
    const out = join(mkdtempSync(join(tmpdir(), "pythia-eval-cli-")), "wsc.jsonl");
    writeFileSync(out, "old\n");
    linkSync(out, `${out}.old`); // a second name: a write in place would change it too
    const { code, stderr } = run([
      "requests",
      "--tasks",
      "wsc",
      "--data-dir",
      dataDir as string,
      "--output",
      out,
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain("wsc: 104 docs, 208 requests");
    const lines = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(208);
    expect(readFileSync(`${out}.old`, "utf8")).toBe("old\n"); // replaced whole, not rewritten
    const fixture = readHarnessFixture("wsc");
    expect(lines[0]).toEqual({ doc: 0, context: fixture[0]!.requests[0]!.context, continuation: " yes" });
    expect(lines[3]).toEqual({ doc: 1, context: fixture[1]!.requests[1]!.context, continuation: " no" });
  });

  it.runIf(dataDir !== null && checkpoint !== null)(
    "run: harness results JSON, table, --compare deltas, and a resumable cache",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "pythia-eval-cli-"));
      const output = join(dir, "results.json");
      const args = [
        "run",
        "--checkpoint",
        checkpoint as string,
        "--tasks",
        "wsc,sciq",
        "--data-dir",
        dataDir as string,
        "--limit",
        "40",
        "--output",
        output,
        "--cache-file",
        join(dir, "scores.jsonl"),
        ...(pythia === null ? [] : ["--compare", pythia]),
      ];
      const first = run(args);
      expect(first.code).toBe(0);
      const results = JSON.parse(readFileSync(output, "utf8"));
      expect(Object.keys(results)).toEqual(["results", "versions", "config"]);
      expect(results.versions).toEqual({ wsc: 0, sciq: 0 });
      expect(results.config).toMatchObject({ num_fewshot: 0, limit: 40, bootstrap_iters: 100000 });
      for (const task of ["wsc", "sciq"]) {
        const docs = readHarnessFixture(task);
        const acc = docs.reduce((sum, doc) => sum + doc.metrics.acc!, 0) / docs.length;
        expect(results.results[task].acc).toBe(acc);
      }
      expect(Object.keys(results.results.sciq)).toEqual(["acc", "acc_stderr", "acc_norm", "acc_norm_stderr"]);
      expect(first.stdout).toMatch(/\|wsc +\|0 +\|acc +\| ?0\.\d{4}\|±\|/);
      if (pythia !== null) {
        expect(first.stdout).toContain("Compare");
        expect(first.stdout).toMatch(/\|sciq.*\|[+-]0\.\d{4}\|/);
      }
      const second = run(args);
      expect(second.code).toBe(0);
      expect(second.stderr).toContain("(160 cached)");
      expect(JSON.parse(readFileSync(output, "utf8")).results).toEqual(results.results);
    },
  );

  it.runIf(dataDir !== null && checkpoint !== null)(
    "sweep: every complete checkpoint of a run, by step",
    async () => {
      const runDir = mkdtempSync(join(tmpdir(), "pythia-eval-run-"));
      for (const step of [0, 2]) {
        const dir = checkpointDir(runDir, step);
        mkdirSync(dir);
        for (const file of ["config.json", "model.safetensors"]) {
          symlinkSync(join(checkpoint as string, file), join(dir, file));
        }
        await writeManifest({ dir, step });
      }
      mkdirSync(join(runDir, "step4")); // incomplete: no manifest
      const output = join(runDir, "evals");
      const args = [
        "sweep",
        "--run",
        runDir,
        "--tasks",
        "wsc",
        "--data-dir",
        dataDir as string,
        "--limit",
        "10",
        "--output",
        output,
      ];
      const { code, stdout, stderr } = run(args);
      expect(code).toBe(0);
      expect(stderr).toContain(
        `\nwarning: skipping ${join(runDir, "step4")}/: no manifest.json (a save that was interrupted or is still running); evaluate it once the trainer has finished writing it\n`,
      );
      expect(stdout.split("\n")[0]).toBe("step\twsc/acc");
      const csv = readFileSync(join(output, "metrics.csv"), "utf8").trim().split("\n");
      expect(csv[0]).toBe("step,task,metric,value,stderr");
      expect(csv.slice(1).map((line) => line.split(",").slice(0, 3).join(","))).toEqual([
        "0,wsc,acc",
        "2,wsc,acc",
      ]);
      expect(readFileSync(join(output, "plots", "wsc.svg"), "utf8")).toContain("wsc by checkpoint");
      expect(JSON.parse(readFileSync(join(output, "step2.json"), "utf8")).config.model_args).toContain(
        "revision=step2",
      );
      const again = run(args);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain("step 2: results already in");
    },
  );

  it("refuses a bit-flipped checkpoint in one line, for run and sweep (exit 1, no results)", async () => {
    await initCompute({ backend: "wasm" });
    const runDir = await runWithDamagedCheckpoint({ steps: [8], damaged: 8 });
    const dir = checkpointDir(runDir, 8);
    const expected =
      /^error: .*step8\/model\.safetensors: sha256 [0-9a-f]{12}… differs from [0-9a-f]{12}… in .*step8\/manifest\.json; the file is damaged: download or copy the checkpoint again, or use an earlier step$/;
    const errorLines = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("error: "));
    const output = join(runDir, "results.json");
    const single = run([
      "run",
      "--checkpoint",
      dir,
      "--tasks",
      "wsc",
      "--data-dir",
      runDir,
      "--output",
      output,
    ]);
    expect(single.code).toBe(1);
    expect(errorLines(single.stderr)).toHaveLength(1);
    expect(errorLines(single.stderr)[0]).toMatch(expected);
    expect(single.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(output)).toBe(false);
    const evals = join(runDir, "evals");
    const swept = run(["sweep", "--run", runDir, "--tasks", "wsc", "--data-dir", runDir, "--output", evals]);
    expect(swept.code).toBe(1);
    expect(errorLines(swept.stderr)).toHaveLength(1);
    expect(errorLines(swept.stderr)[0]).toMatch(expected);
    expect(existsSync(join(evals, "metrics.csv"))).toBe(false);
    expect(existsSync(join(evals, "step8.json"))).toBe(false);
  });
});
