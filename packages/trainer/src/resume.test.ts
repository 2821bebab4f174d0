// What `resume` promises (docs/decisions/0019-what-resume-promises.md), case by case.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { datasetIdentity, readMetrics, readRunJson } from "@pythia/core/run";
import { initCompute } from "@pythia/model";
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
