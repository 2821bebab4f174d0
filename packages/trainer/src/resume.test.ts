// What `resume` promises (docs/decisions/0019-what-resume-promises.md), case by case.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { datasetIdentity, fileIdentity, readMetrics, readRunJson, RunError } from "@pythia/core/run";
import { initCompute, readSafetensors, writeSafetensors } from "@pythia/model";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AdamW,
  readTrainingCheckpoint,
  train,
  TrainingError,
  type TrainEvent,
  type TrainParams,
} from "./index.js";
import { runDir, tinyConfig, tinyDataset } from "../test/helpers.js";
import { copyRun, flipBit, losses, manifests, runChild } from "../test/run-copies.js";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

const caught = async (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

async function trainEvents(params: TrainParams): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  await train({ ...params, onEvent: (event) => events.push(event) });
  return events;
}

/** Every file of a run directory with its bytes, to show a refusal changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const visit = (path: string, name: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        visit(child, `${name}${entry.name}/`);
      } else {
        files[`${name}${entry.name}`] = readFileSync(child).toString("base64");
      }
    }
  };
  visit(dir, "");
  return files;
}

/** A copy of dataset `prefix` in a new folder, under the same name. */
function copyDataset(prefix: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), "pythia-data-copy-")), basename(prefix));
  cpSync(`${prefix}.bin`, `${copy}.bin`);
  cpSync(`${prefix}.idx`, `${copy}.idx`);
  return copy;
}

describe("resume pins the data", () => {
  const config = tinyConfig({ steps: 6, checkpointEvery: 2 });
  let data: string;
  let stopped: string;

  beforeAll(async () => {
    // A run stopped after step 3 (newest checkpoint step2).
    data = tinyDataset();
    stopped = runDir();
    const controller = new AbortController();
    await caught(
      train({
        config,
        data: { kind: "index-map", prefix: data },
        out: stopped,
        signal: controller.signal,
        onEvent: (event) => event.type === "step-end" && event.step === 3 && controller.abort(),
      }),
    );
  });

  it("records the data's identity and the order's parameters in run.json", async () => {
    const run = readRunJson({ dir: stopped });
    expect(run.dataIdentity).toEqual({
      train: await datasetIdentity({ prefix: data }),
      order: {
        kind: "index-map",
        seed: 7,
        seqLength: 8,
        numSamples: 25, // ceil(6 × 4 × 1.005)
        validationFraction: 0.01,
        trainDocuments: 39,
        validationDocuments: 1,
        epochs: 1,
      },
    });
    expect(run.dataChanges).toEqual([]);
  });

  it("refuses other data in one line naming each changed field, and changes nothing", async () => {
    const out = copyRun(stopped);
    const other = copyDataset(data);
    flipBit(`${other}.bin`); // 1.6 KB: the fast checksum reads it whole
    const before = snapshot(out);
    const recorded = readRunJson({ dir: out }).dataIdentity!;
    const now = await datasetIdentity({ prefix: other });
    const error = await caught(
      train({ config, data: { kind: "index-map", prefix: other }, out, resume: true }),
    );
    expect(TrainingError.isInstance(error) && error.code).toBe("DATA_CHANGED");
    expect((error as Error).message).toBe(
      `${join(out, "run.json")}: dataIdentity: the data differs from the run's (train.binSampleSha256 was ${recorded.train.binSampleSha256.slice(0, 12)}…, now ${now.binSampleSha256.slice(0, 12)}…); resume on the data the run was started with (${data}), pass allowDataChange (pythia-train: --allow-data-change) to continue on this data, or start a new run`,
    );
    // Another validation split is other data too.
    await expect(
      train({
        config,
        data: { kind: "index-map", prefix: data, validationFraction: 0.1 },
        out,
        resume: true,
      }),
    ).rejects.toThrow("(order.validationFraction was 0.01, now 0.1)");
    expect(snapshot(out)).toEqual(before);
  });

  it("allowDataChange continues on the new data and records the change in run.json", async () => {
    const out = copyRun(stopped);
    const other = copyDataset(data);
    flipBit(`${other}.bin`);
    const previous = readRunJson({ dir: out }).dataIdentity!;
    const events = await trainEvents({
      config,
      data: { kind: "index-map", prefix: other },
      out,
      resume: true,
      allowDataChange: true,
    });
    expect(events.find((event) => event.type === "data-changed")).toEqual({
      type: "data-changed",
      step: 2,
      changes: [
        {
          field: "train.binSampleSha256",
          previous: previous.train.binSampleSha256,
          current: (await datasetIdentity({ prefix: other })).binSampleSha256,
        },
      ],
    });
    const run = readRunJson({ dir: out });
    expect(run.dataIdentity?.train).toEqual(await datasetIdentity({ prefix: other }));
    expect(run.dataChanges).toEqual([
      { step: 2, changes: [expect.objectContaining({ field: "train.binSampleSha256" })], previous },
    ]);
    expect(readMetrics({ dir: out }).filter((record) => record.type === "train")).toHaveLength(6);
  });

  it("refuses a run whose run.json is missing while it holds checkpoints, changing nothing", async () => {
    const out = copyRun(stopped);
    rmSync(join(out, "run.json"));
    const before = snapshot(out);
    const error = await caught(
      train({ config, data: { kind: "index-map", prefix: data }, out, resume: true }),
    );
    expect(TrainingError.isInstance(error) && error.code).toBe("RUN_JSON");
    expect((error as Error).message).toBe(
      `${join(out, "run.json")}: missing, while the run holds checkpoints (step{N}/); nothing records the data they were trained on: restore run.json from a copy (e.g. the Hub), or pass allowDataChange (pythia-train: --allow-data-change) to adopt this data knowingly`,
    );
    expect(snapshot(out)).toEqual(before);
    // Knowingly: the data is adopted and recorded, with a note.
    const events = await trainEvents({
      config,
      data: { kind: "index-map", prefix: data },
      out,
      resume: true,
      allowDataChange: true,
    });
    expect(events[0]).toEqual(expect.objectContaining({ type: "data-identity-recorded" }));
    expect(readRunJson({ dir: out }).dataIdentity?.train).toEqual(await datasetIdentity({ prefix: data }));
  });

  it("a run stopped before its first checkpoint keeps its recorded inputs, and starts over on other data", async () => {
    // As a kill between writing run.json and step0/ leaves a run that tokenized its input.
    const out = copyRun(stopped);
    for (const name of readdirSync(out).filter((entry) => /^step\d+$/.test(entry))) {
      rmSync(join(out, name), { recursive: true });
    }
    const json = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    const inputs = [await fileIdentity({ path: `${data}.idx` })];
    const tokenizer = await fileIdentity({ path: `${data}.bin` });
    json.dataIdentity = { ...json.dataIdentity, inputs, tokenizer };
    writeFileSync(join(out, "run.json"), JSON.stringify(json));
    // The same data, as the CLI resumes it after checking the inputs: no dataSource.
    const restarted = runDir();
    cpSync(out, restarted, { recursive: true });
    await train({ config, data: { kind: "index-map", prefix: data }, out: restarted, resume: true });
    expect(readRunJson({ dir: restarted }).dataIdentity).toEqual(
      expect.objectContaining({ inputs, tokenizer, train: await datasetIdentity({ prefix: data }) }),
    );
    // Other data with its own source: nothing was trained, so a fresh start recording the new identity.
    const other = copyDataset(data);
    flipBit(`${other}.bin`);
    const otherInputs = [await fileIdentity({ path: `${other}.bin` })];
    const events = await trainEvents({
      config,
      data: { kind: "index-map", prefix: other },
      out,
      resume: true,
      dataSource: { inputs: otherInputs, tokenizer },
    });
    expect(events.filter((event) => event.type.startsWith("data-"))).toEqual([]);
    const run = readRunJson({ dir: out });
    expect(run.dataIdentity).toEqual(
      expect.objectContaining({
        inputs: otherInputs,
        tokenizer,
        train: await datasetIdentity({ prefix: other }),
      }),
    );
    expect(run.dataChanges).toEqual([]);
  });

  it("refuses other data on a finished run, even with allowDataChange, leaving run.json as it was", async () => {
    const out = copyRun(stopped);
    await train({ config, data: { kind: "index-map", prefix: data }, out, resume: true });
    const other = copyDataset(data);
    flipBit(`${other}.bin`);
    const before = snapshot(out);
    const error = await caught(
      train({ config, data: { kind: "index-map", prefix: other }, out, resume: true, allowDataChange: true }),
    );
    expect(TrainingError.isInstance(error) && error.code).toBe("DATA_CHANGED");
    expect((error as Error).message).toBe(
      `${join(out, "run.json")}: dataIdentity: the run is finished (step6 is its last step), so nothing would train on this data and run.json keeps the data it was trained on; resume without allowDataChange on that data (${data}), or start a new run on this data`,
    );
    expect(snapshot(out)).toEqual(before);
  });

  it("takes the same bytes at another path, and records an older run's identity with a note", async () => {
    const out = copyRun(stopped);
    const moved = copyDataset(data);
    const json = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    delete json.dataIdentity; // as written before dataIdentity existed
    writeFileSync(join(out, "run.json"), JSON.stringify(json));
    const events = await trainEvents({
      config,
      data: { kind: "index-map", prefix: moved },
      out,
      resume: true,
    });
    expect(events.filter((event) => event.type.startsWith("data-"))).toEqual([
      {
        type: "data-identity-recorded",
        runJson: join(out, "run.json"),
        identity: expect.objectContaining({ train: await datasetIdentity({ prefix: moved }) }),
      },
    ]);
    expect(readRunJson({ dir: out }).dataIdentity?.train.prefix).toBe(moved);
    // Recorded now, so the next resume checks against it: the original path holds the same bytes.
    const again = runDir();
    cpSync(out, again, { recursive: true });
    rmSync(join(again, "step6"), { recursive: true });
    const resumed = await trainEvents({
      config,
      data: { kind: "index-map", prefix: data },
      out: again,
      resume: true,
    });
    expect(resumed.filter((event) => event.type.startsWith("data-"))).toEqual([]);
  });
});

describe("resume verifies checkpoints and repairs records", () => {
  const config = tinyConfig({ steps: 12, checkpointEvery: 4 });
  let data: string;
  let reference: string;

  beforeAll(async () => {
    data = tinyDataset();
    reference = runDir();
    await train({ config, data: { kind: "index-map", prefix: data }, out: reference });
  });

  it("falls back from a corrupt newest checkpoint, sets it aside, and ends equal to an uninterrupted run", async () => {
    const out = copyRun(reference);
    flipBit(join(out, "step12", "model.safetensors"));
    const events = await trainEvents({
      config,
      data: { kind: "index-map", prefix: data },
      out,
      resume: true,
    });
    expect(events.slice(0, 2)).toEqual([
      {
        type: "checkpoint-rejected",
        step: 12,
        dir: join(out, "step12"),
        failures: [
          {
            file: "model.safetensors",
            problem: "sha256",
            detail: expect.stringMatching(/step12\/model\.safetensors: sha256 differs from the manifest's/),
          },
        ],
        movedTo: join(out, "step12.corrupt"),
        resumeFrom: 8,
      },
      expect.objectContaining({ type: "run-start", fromStep: 8, resumed: true }),
    ]);
    expect(existsSync(join(out, "step12.corrupt", "model.safetensors"))).toBe(true);
    expect(manifests(out)).toEqual(manifests(reference));
    expect(losses(out)).toEqual(losses(reference));
  });

  it("readTrainingCheckpoint checks every file, the optimizer's included, before reading any", async () => {
    const out = copyRun(reference);
    flipBit(join(out, "step8", "optimizer.safetensors"));
    const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 });
    const error = await caught(readTrainingCheckpoint({ dir: join(out, "step8"), optimizer }));
    expect(TrainingError.isInstance(error) && error.code).toBe("CHECKPOINT");
    expect((error as Error).message).toMatch(
      /step8: does not match its manifest \(.*step8\/optimizer\.safetensors: sha256 differs from the manifest's [0-9a-f]{64}\); restore it from a copy/,
    );
    expect(optimizer.step).toBe(0);
  });

  it("refuses in one line when no checkpoint verifies, moving nothing", async () => {
    const out = copyRun(reference);
    for (const step of [0, 1, 2, 4, 8, 12]) {
      flipBit(join(out, `step${step}`, step === 4 ? "optimizer.safetensors" : "model.safetensors"));
    }
    const before = snapshot(out);
    const error = await caught(
      train({ config, data: { kind: "index-map", prefix: data }, out, resume: true }),
    );
    expect(TrainingError.isInstance(error) && error.code).toBe("CHECKPOINT");
    expect((error as Error).message).toBe(
      `${out}: no checkpoint matches its manifest (step12: model.safetensors sha256 differs; step8: model.safetensors sha256 differs; step4: optimizer.safetensors sha256 differs; step2: model.safetensors sha256 differs; step1: model.safetensors sha256 differs; step0: model.safetensors sha256 differs); nothing to resume from: restore a checkpoint from a copy (e.g. the Hub) or start again in a new output directory`,
    );
    expect(snapshot(out)).toEqual(before);
  });

  it("runs a validation the run stopped before recording (killed after step12/ was written)", async () => {
    const out = runDir();
    const killed = await runChild({
      config,
      data: { kind: "index-map", prefix: data },
      out,
      options: { killOn: { type: "checkpoint-written", step: 12 } },
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(readMetrics({ dir: out }).filter((record) => record.type === "eval")).toEqual([]);
    const events = await trainEvents({
      config,
      data: { kind: "index-map", prefix: data },
      out,
      resume: true,
    });
    expect(events.map((event) => event.type)).toEqual(["run-start", "validation-missing", "eval-end"]);
    expect(losses(out)).toEqual(losses(reference));
    expect(manifests(out)).toEqual(manifests(reference));
    // Recorded now: another resume has nothing to do.
    const again = await trainEvents({ config, data: { kind: "index-map", prefix: data }, out, resume: true });
    expect(again.map((event) => event.type)).toEqual(["run-start"]);
  }, 60_000);

  it("removes a torn last metrics line on resume, saying so", async () => {
    const out = copyRun(reference);
    // As a kill while appending step 10's line leaves it (step12/ not written yet).
    rmSync(join(out, "step12"), { recursive: true });
    const lines = readFileSync(join(out, "metrics.jsonl"), "utf8").split("\n");
    writeFileSync(join(out, "metrics.jsonl"), `${lines.slice(0, 9).join("\n")}\n${lines[9]!.slice(0, 25)}`);
    const events = await trainEvents({
      config,
      data: { kind: "index-map", prefix: data },
      out,
      resume: true,
    });
    expect(events[0]).toEqual({
      type: "metrics-repaired",
      file: join(out, "metrics.jsonl"),
      line: 10,
      reason: expect.stringMatching(/cut short/),
    });
    expect(losses(out)).toEqual(losses(reference));
    expect(manifests(out)).toEqual(manifests(reference));
  });
});

describe("resume locks the run and checks the optimizer's header", () => {
  const config = tinyConfig({ steps: 4, checkpointEvery: 2 });
  let data: string;
  let reference: string;

  beforeAll(async () => {
    data = tinyDataset();
    reference = runDir();
    await train({ config, data: { kind: "index-map", prefix: data }, out: reference });
  });

  it("a second train() on a run another live process holds fails fast, leaving its temporary files", async () => {
    const out = copyRun(reference);
    rmSync(join(out, "step4"), { recursive: true });
    const lock = { pid: process.pid, hostname: hostname(), startedAt: "2026-12-03T12:00:00.000Z" };
    writeFileSync(join(out, "run.lock"), JSON.stringify(lock));
    mkdirSync(join(out, "step4.tmp-1-abc")); // the holder's checkpoint in progress
    const error = await caught(
      train({ config, data: { kind: "index-map", prefix: data }, out, resume: true }),
    );
    expect(RunError.isInstance(error) && error.code).toBe("RUN_LOCKED");
    expect((error as Error).message).toBe(
      `${join(out, "run.lock")}: another process writes into this run (pid ${process.pid} on ${hostname()}, since 2026-12-03T12:00:00.000Z); wait for it to finish or stop it, or, if no such process runs, delete ${join(out, "run.lock")}`,
    );
    expect(existsSync(join(out, "step4.tmp-1-abc"))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "run.lock"), "utf8"))).toEqual(lock);
  });

  it("two train() calls at once: the second is refused, the first ends as an uninterrupted run", async () => {
    const out = copyRun(reference);
    rmSync(join(out, "step4"), { recursive: true });
    const params = { config, data: { kind: "index-map" as const, prefix: data }, out, resume: true };
    const [first, second] = await Promise.allSettled([train(params), train(params)]);
    expect(first.status).toBe("fulfilled");
    expect(second.status === "rejected" && RunError.isInstance(second.reason) && second.reason.code).toBe(
      "RUN_LOCKED",
    );
    expect(losses(out)).toEqual(losses(reference));
    expect(existsSync(join(out, "run.lock"))).toBe(false);
  });

  it("takes over the lock of a dead process on this host", async () => {
    const out = copyRun(reference);
    rmSync(join(out, "step4"), { recursive: true });
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    writeFileSync(
      join(out, "run.lock"),
      JSON.stringify({ pid: dead, hostname: hostname(), startedAt: "2026-12-03T12:00:00.000Z" }),
    );
    await train({ config, data: { kind: "index-map", prefix: data }, out, resume: true });
    expect(manifests(out)).toEqual(manifests(reference));
    expect(existsSync(join(out, "run.lock"))).toBe(false);
  });

  it("readTrainingCheckpoint refuses an optimizer.safetensors header with a stray or mis-shaped tensor", async () => {
    const out = copyRun(reference);
    const file = join(out, "step2", "optimizer.safetensors");
    const { tensors, metadata } = await readSafetensors(file);
    const entries = Object.fromEntries(
      [...tensors].map(([name, tensor]) => [
        name,
        { dtype: "F32" as const, shape: [...tensor.shape], data: tensor.data },
      ]),
    );
    const optimizer = () => new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 });
    await writeSafetensors(
      file,
      { ...entries, stray: { dtype: "F32", shape: [4], data: new Float32Array(4) } },
      { metadata },
    );
    const stray = await caught(
      readTrainingCheckpoint({ dir: join(out, "step2"), optimizer: optimizer(), verified: true }),
    );
    expect(TrainingError.isInstance(stray) && stray.code).toBe("CHECKPOINT");
    expect((stray as Error).message).toBe(
      `${file}: stray is not a moment of a model parameter; this is not this model's optimizer state: restore the checkpoint from a copy (e.g. the Hub) or use an earlier step`,
    );
    const name = "exp_avg.gpt_neox.embed_in.weight";
    expect(entries[name]?.shape).toEqual([64, 16]);
    await writeSafetensors(
      file,
      { ...entries, [name]: { dtype: "F32", shape: [16, 64], data: new Float32Array(64 * 16) } },
      { metadata },
    );
    await expect(
      readTrainingCheckpoint({ dir: join(out, "step2"), optimizer: optimizer(), verified: true }),
    ).rejects.toThrow(`${file}: ${name} has shape [16, 64], the parameter [64, 16];`);
  });
});
