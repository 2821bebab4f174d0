// The run directory is the contract between the trainer and everything that reads a run
// (`@pythia/core/run`, docs/decisions/0012-run-contract.md). A run written by the trainer is read back
// through every consumer: in place, after being moved, from another working directory, and in the
// format written before run.json had a version.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { openCheckpointSeries, openTrainingRun } from "@pythia/analyses";
import {
  checkpointDir,
  completeCheckpointSteps,
  readManifest,
  readMetrics,
  readRunJson,
  RUN_FORMAT,
} from "@pythia/core/run";
import { IndexedDatasetBuilder } from "@pythia/dataloader";
import { checkpointRevision } from "@pythia/eval";
import { readLocalCheckpoint } from "@pythia/hub";
import { initCompute } from "@pythia/model";
import { runTrainingInput, train } from "@pythia/trainer";
import { beforeAll, describe, expect, it } from "vitest";

const analyzeCli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const trainCli = fileURLToPath(new URL("../../train/dist/cli.js", import.meta.url));
const STEPS = [0, 1, 2, 4];

function cli(program: string, args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [program, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, PYTHIA_BACKEND: "wasm" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** 40 documents of a learnable pattern (vocab 64) at `prefix`. */
function writeTinyCorpus(prefix: string): void {
  const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
  let state = 7;
  for (let doc = 0; doc < 40; doc++) {
    const ids: number[] = [];
    for (let i = 0; i < 12 + ((doc * 7) % 23); i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      ids.push(i > 0 && state % 4 !== 0 ? ((ids[i - 1] as number) % 62) + 1 : 1 + (state % 62));
    }
    ids.push(0);
    builder.addItem(ids);
    builder.endDocument();
  }
  builder.finalize();
}

let root = "";
let original = "";
let firstRows: Int32Array[] = [];

beforeAll(async () => {
  for (const built of [analyzeCli, trainCli]) {
    if (!existsSync(built)) {
      throw new Error(`${built} is missing: run "pnpm build" first`);
    }
  }
  await initCompute({ backend: "wasm" });
  root = mkdtempSync(join(tmpdir(), "pythia-run-contract-"));
  original = join(root, "work", "runs", "tiny");
  mkdirSync(join(original, "data"), { recursive: true });
  writeTinyCorpus(join(original, "data", "tiny_text_document"));
  await train({
    config: {
      model: {
        vocabSize: 64,
        hiddenSize: 16,
        numLayers: 2,
        numHeads: 2,
        intermediateSize: 64,
        rotaryPct: 0.5,
        maxPositionEmbeddings: 64,
      },
      steps: 4,
      batchSize: 2,
      microBatchSize: 2,
      seqLength: 16,
      lr: 3e-3,
      checkpointEvery: 4,
      seed: 7,
      evalEvery: 2,
      evalBatches: 1,
    },
    data: { kind: "index-map", prefix: join(original, "data", "tiny_text_document") },
    out: original,
  });
});

/** Reads the run at `dir` through core, the trainer, hub, eval, analyses and both CLIs (run from `cwd`). */
async function readThroughEveryConsumer(dir: string, cwd: string): Promise<void> {
  // core/run
  const run = readRunJson({ dir, cwd });
  expect(run.data.prefix).toBe(join(dir, "data", "tiny_text_document"));
  expect(readMetrics({ dir }).map((record) => `${record.type}${record.step}`)).toEqual([
    "train1",
    "train2",
    "eval2",
    "train3",
    "train4",
    "eval4",
  ]);
  expect(await completeCheckpointSteps({ dir, verify: true })).toEqual(STEPS);

  // trainer: what a resume trains with
  const input = runTrainingInput(run);
  expect(input.config).toMatchObject({ steps: 4, batchSize: 2, seqLength: 16, seed: 7 });
  expect(input.data).toEqual({
    kind: "index-map",
    prefix: join(dir, "data", "tiny_text_document"),
    cacheDir: join(dir, "index-maps"),
    validationFraction: 0.01,
  });

  // hub: the files of each revision, checked against the manifest
  for (const step of STEPS) {
    const checkpoint = await readLocalCheckpoint({ dir: checkpointDir(dir, step), verify: true });
    expect(checkpoint.step).toBe(step);
    expect(checkpoint.files.map((file) => file.path)).toContain("model.safetensors");
  }

  // eval: the score-cache revision of a checkpoint comes from its manifest
  const weights = readManifest(checkpointDir(dir, 4))?.files["model.safetensors"]?.sha256;
  expect(await checkpointRevision(checkpointDir(dir, 4))).toBe(`sha256:${weights}`);

  // analyses: the same rows in the same order, from the run's own data and index maps
  const opened = await openTrainingRun({ dir });
  const rows = opened.rows(0, 8);
  opened.close();
  if (firstRows.length === 0) {
    firstRows = rows;
  }
  expect(rows).toEqual(firstRows);
  expect(opened.checkpointSteps).toEqual(STEPS);
  const series = await openCheckpointSeries({ dir });
  expect(series.checkpointDir(2)).toBe(checkpointDir(dir, 2));
  series.close();

  // pythia-analyze and pythia-train, run from another directory
  const out = join(cwd, "memorization");
  const memorization = cli(
    analyzeCli,
    [
      "memorization",
      "--run",
      relative(cwd, dir),
      "--output",
      out,
      "--prompt-length",
      "4",
      "--continuation-length",
      "4",
      "--batch-size",
      "8",
    ],
    cwd,
  );
  expect(memorization.stderr).toContain("memorized");
  expect(memorization.code).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, "memorization.json"), "utf8"));
  expect(summary.checkpoints.map((c: { step: number; count: number }) => [c.step, c.count])).toEqual([
    [1, 2],
    [2, 4],
    [4, 8],
  ]);
  const resumed = cli(trainCli, ["--output", dir, "--resume"], cwd);
  expect(resumed.stderr).toContain("resumed from step4");
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toContain("had already finished its 4 steps; nothing to train");
}

describe("the run directory contract", () => {
  it("a trainer run reads back through every consumer, stores relative paths, and survives a move", async () => {
    const stored = JSON.parse(readFileSync(join(original, "run.json"), "utf8"));
    expect(stored.format).toBe(RUN_FORMAT);
    expect(stored.data.prefix).toBe("data/tiny_text_document");
    expect(stored.data.indexMaps.docIdx).toBe(
      "index-maps/tiny_text_document_train_indexmap_9ns_16sl_7s_doc_idx.npy",
    );
    await readThroughEveryConsumer(original, mkdtempSync(join(root, "cwd-")));

    const moved = join(root, "elsewhere", "renamed");
    mkdirSync(join(root, "elsewhere"));
    renameSync(original, moved);
    await readThroughEveryConsumer(moved, mkdtempSync(join(tmpdir(), "pythia-other-cwd-")));
    renameSync(moved, original);
  }, 300_000);

  it("a run.json in the format written before it had a version is read the same, also after a move", async () => {
    // Today's trainer wrote every path relative to where training started (here `work/`).
    const path = join(original, "run.json");
    const json = JSON.parse(readFileSync(path, "utf8"));
    delete json.format;
    json.data.prefix = "runs/tiny/data/tiny_text_document";
    for (const key of ["docIdx", "sampleIdx", "shuffleIdx"]) {
      json.data.indexMaps[key] = `runs/tiny/${json.data.indexMaps[key]}`;
    }
    writeFileSync(path, JSON.stringify(json, null, 2));
    expect(readRunJson({ dir: original }).format).toBe("legacy");
    const moved = join(root, "copied");
    renameSync(original, moved);
    expect(readRunJson({ dir: moved, cwd: root }).data.prefix).toBe(
      join(moved, "data", "tiny_text_document"),
    );
    // pythia-train --resume rewrites run.json in the current format, so read everything else first.
    await readThroughEveryConsumer(moved, mkdtempSync(join(tmpdir(), "pythia-legacy-cwd-")));
    expect(readRunJson({ dir: moved }).format).toBe(RUN_FORMAT);
  }, 300_000);
});
