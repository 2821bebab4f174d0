import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initCompute, loadCheckpoint } from "@pythia/model";
import { beforeAll, describe, expect, it } from "vitest";
import { completeCheckpointSteps } from "@pythia/core/run";
import { train, TrainingError, type TrainEvent } from "./index.js";
import { runDir, tinyConfig, tinyDataset } from "../test/helpers.js";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

const manifests = (out: string) =>
  Object.fromEntries(
    readdirSync(out)
      .filter((name) => /^step\d+$/.test(name))
      .map((name) => [name, readFileSync(join(out, name, "manifest.json"), "utf8")]),
  );

describe("train", () => {
  it("trains, checkpoints on the Pythia schedule, validates, and logs metrics", async () => {
    const data = tinyDataset();
    const out = runDir();
    const events: TrainEvent[] = [];
    const summary = await train({
      config: tinyConfig(),
      data: { kind: "index-map", prefix: data, validationFraction: 0.1 },
      out,
      onEvent: (event) => events.push(event),
    });
    expect(
      readdirSync(out)
        .filter((name) => name.startsWith("step"))
        .sort(),
    ).toEqual(["step0", "step1", "step12", "step2", "step4", "step8"]);
    expect(await completeCheckpointSteps({ dir: out })).toEqual([0, 1, 2, 4, 8, 12]);
    for (const file of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "optimizer.safetensors",
      "trainer_state.json",
      "manifest.json",
    ]) {
      expect(readdirSync(join(out, "step4"))).toContain(file);
    }
    const steps = events.filter((event) => event.type === "step-end");
    expect(steps.map((event) => event.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(steps[0]?.lr).toBe(0); // GPT-NeoX: the first update uses lr(0) = 0
    expect(steps.at(-1)!.loss).toBeLessThan(steps[0]!.loss);
    expect(events.some((event) => event.type === "eval-end")).toBe(true);
    const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(metrics.filter((line) => line.type === "train")).toHaveLength(12);
    expect(summary.validationLoss).not.toBeNull();
    // Checkpoint step0 is the initialisation, and step1 equals it (lr 0; AdamW decay is lr-scaled too).
    const step0 = await (await loadCheckpoint({ dir: join(out, "step0") })).toTensors();
    const step1 = await (await loadCheckpoint({ dir: join(out, "step1") })).toTensors();
    expect(step1.get("embed_out.weight")?.data).toEqual(step0.get("embed_out.weight")?.data);
    const state = JSON.parse(readFileSync(join(out, "step8/trainer_state.json"), "utf8"));
    expect(state).toMatchObject({ step: 8, nextSample: 32, seed: 7 });
  });

  it("is deterministic: the same seed gives byte-identical checkpoints", async () => {
    const data = tinyDataset();
    const config = tinyConfig({ steps: 6 });
    const a = runDir();
    const b = runDir();
    await train({ config, data: { kind: "index-map", prefix: data }, out: a });
    await train({ config, data: { kind: "index-map", prefix: data }, out: b });
    expect(manifests(b)).toEqual(manifests(a));
  });

  it("resumes after a kill at any moment to the same losses and checkpoints as an uninterrupted run", async () => {
    const data = tinyDataset();
    const config = tinyConfig({ steps: 12, checkpointEvery: 4 });
    const reference = runDir();
    await train({ config, data: { kind: "index-map", prefix: data }, out: reference });

    const out = runDir();
    const child = fileURLToPath(new URL("../test/train-child.mjs", import.meta.url));
    const args = [child, JSON.stringify(config), JSON.stringify({ kind: "index-map", prefix: data }), out];
    // Kill the child as soon as step 6 ends (after checkpoint step4, before step8).
    await new Promise<void>((resolve) => {
      const process_ = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
      let buffer = "";
      process_.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        if (buffer.includes('"type":"step-end","step":6,')) {
          process_.kill("SIGKILL");
        }
      });
      process_.on("exit", () => resolve());
    });
    expect(await completeCheckpointSteps({ dir: out })).toEqual([0, 1, 2, 4]);
    const events: TrainEvent[] = [];
    await train({
      config,
      data: { kind: "index-map", prefix: data },
      out,
      resume: true,
      onEvent: (event) => events.push(event),
    });
    expect(events[0]).toMatchObject({ type: "run-start", fromStep: 4, resumed: true });
    const losses = (dir: string) =>
      readFileSync(join(dir, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .map(({ type, step, loss }) => [type, step, loss]);
    expect(losses(out)).toEqual(losses(reference));
    expect(manifests(out)).toEqual(manifests(reference));
  }, 120_000);

  it("refuses to overwrite a run, and to resume with other settings", async () => {
    const data = tinyDataset();
    const out = runDir();
    await train({ config: tinyConfig({ steps: 2 }), data: { kind: "index-map", prefix: data }, out });
    await expect(
      train({ config: tinyConfig({ steps: 2 }), data: { kind: "index-map", prefix: data }, out }),
    ).rejects.toThrow(/already holds checkpoints \(newest: step2\); pass resume/);
    await expect(
      train({
        config: tinyConfig({ steps: 2, lr: 1e-2 }),
        data: { kind: "index-map", prefix: data },
        out,
        resume: true,
      }),
    ).rejects.toThrow(/resuming with a different configuration \(lr\)/);
  });

  it("one-line errors for bad configurations and data", async () => {
    const data = tinyDataset();
    await expect(
      train({
        config: tinyConfig({ microBatchSize: 3 }),
        data: { kind: "index-map", prefix: data },
        out: runDir(),
      }),
    ).rejects.toThrow(/microBatchSize: must divide batchSize 4/);
    await expect(
      train({
        config: tinyConfig({ seqLength: 100 }),
        data: { kind: "index-map", prefix: data },
        out: runDir(),
      }),
    ).rejects.toThrow(/seqLength: 100 exceeds the model's maxPositionEmbeddings 64/);
    const missing = await train({
      config: tinyConfig(),
      data: { kind: "index-map", prefix: "/no/such/data" },
      out: runDir(),
    }).catch((error: unknown) => error);
    expect(TrainingError.isInstance(missing) && missing.code).toBe("DATA");
    expect((missing as Error).message).toMatch(/cannot open \/no\/such\/data\.idx/);
    await expect(
      train({
        config: tinyConfig({ steps: 400, batchSize: 64, microBatchSize: 64 }),
        data: { kind: "preshuffled", prefix: data },
        out: runDir(),
      }),
    ).rejects.toThrow(/rows of 9 tokens, but 400 steps × 64 need 25600/);
  });

  it("stops on a diverging loss, naming the step and the last good checkpoint", async () => {
    const data = tinyDataset();
    const out = runDir();
    const error = await train({
      config: tinyConfig({ steps: 40, lr: 1e12, gradClip: 1e30, warmupFraction: 0 }),
      data: { kind: "index-map", prefix: data },
      out,
    }).catch((caught: unknown) => caught);
    expect(TrainingError.isInstance(error) && error.code).toBe("DIVERGED");
    expect((error as Error).message).toMatch(
      /^step \d+: the loss is (NaN|Infinity); training stopped\. The last good checkpoint is .*step\d+/,
    );
  });

  it("applies batch interventions to their step range only", async () => {
    const data = tinyDataset();
    const seen: number[] = [];
    await train({
      config: tinyConfig({ steps: 6 }),
      data: { kind: "index-map", prefix: data },
      out: runDir(),
      interventions: [
        {
          name: "record",
          fromStep: 4,
          toStep: 6,
          transform: (batch, { step }) => (seen.push(step), batch.map((id) => (id === 5 ? 6 : id))),
        },
      ],
    });
    expect(seen).toEqual([4, 5]);
  });
});

describe("train input checks and stopping", () => {
  it("writes nothing when the data is missing, and stops cleanly on abort", async () => {
    const out = runDir();
    await expect(
      train({ config: tinyConfig(), data: { kind: "index-map", prefix: "/no/such/data" }, out }),
    ).rejects.toThrow(TrainingError);
    expect(existsSync(out)).toBe(false);
    const controller = new AbortController();
    const data = tinyDataset();
    const error = await train({
      config: tinyConfig({ steps: 12 }),
      data: { kind: "index-map", prefix: data },
      out,
      signal: controller.signal,
      onEvent: (event) => event.type === "step-end" && event.step === 5 && controller.abort(),
    }).catch((caught: unknown) => caught);
    expect(TrainingError.isInstance(error) && error.code).toBe("ABORTED");
    expect((error as Error).message).toMatch(
      /stopped before step 6 of 12; the newest checkpoint is .*step4; resume to continue/,
    );
  });
});
