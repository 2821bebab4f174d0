// kill -9 at random points of training and checkpoint writes, then resume: the run must end byte-identical
// to an uninterrupted one. A few kills by default (CI); `pnpm test:kill` runs many
// (PYTHIA_KILLS=N; PYTHIA_KILL_SEED=S replays a failure, whose message names its seed).
import { existsSync, readdirSync } from "node:fs";
import { completeCheckpointSteps, findResumeCheckpoint, isTemporaryName } from "@pythia/core/run";
import { initCompute } from "@pythia/model";
import { beforeAll, describe, expect, it } from "vitest";
import { train } from "../src/index.js";
import { runDir, tinyConfig, tinyDataset } from "./helpers.js";
import { losses, manifests, runChild } from "./run-copies.js";
import { seededRandom, testSeed } from "@pythia/core/testing";

const KILLS = Number(process.env.PYTHIA_KILLS ?? 3);
const SEED = testSeed("PYTHIA_KILL_SEED");

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

describe(`kill -9 during training and checkpoint writes, then resume (seed ${SEED}, ${KILLS} kills)`, () => {
  it("never leaves a checkpoint that fails verification, and ends equal to an uninterrupted run", async () => {
    const config = tinyConfig({ steps: 12, checkpointEvery: 4 }); // checkpoints 0, 1, 2, 4, 8, 12
    const data = { kind: "index-map" as const, prefix: tinyDataset() };
    const reference = runDir();
    const started = performance.now();
    await train({ config, data, out: reference });
    const trainingMs = performance.now() - started;
    const next = seededRandom(SEED);
    const why = (what: string) => `seed ${SEED}: ${what}`;
    const killsLog: string[] = [];

    const finish = async (out: string) => {
      await train({ config, data, out, resume: true });
      expect(manifests(out), why(`checkpoints after ${killsLog.join(", ")}`)).toEqual(manifests(reference));
      expect(losses(out), why(`metrics after ${killsLog.join(", ")}`)).toEqual(losses(reference));
      expect(readdirSync(out).filter(isTemporaryName), why("temporary names left")).toEqual([]);
    };

    let out = runDir();
    for (let kill = 0; kill < KILLS; kill++) {
      // Where to kill: inside a checkpoint write (just after the step that triggers it ends), anywhere in
      // the loop, or during start-up and resume's own writes (run.json, metrics, setting aside).
      const newest = (await completeCheckpointSteps({ dir: out })).at(-1) ?? -1;
      const ahead = [1, 2, 4, 8, 12].filter((step) => step > newest);
      if (ahead.length === 0) {
        // The previous child finished its last checkpoint before its kill: check, and start afresh.
        await finish(out);
        out = runDir();
        ahead.push(1, 2, 4, 8, 12);
      }
      const mode = (["checkpoint", "anywhere", "startup"] as const)[Math.floor(next() * 3)]!;
      const checkpointStep = ahead[Math.floor(next() * ahead.length)]!;
      const delayMs =
        mode === "checkpoint" ? next() * 25 : mode === "anywhere" ? next() * trainingMs : next() * 2500;
      let timer: NodeJS.Timeout | undefined;
      const armed = (killNow: () => void) => {
        timer = setTimeout(killNow, delayMs);
      };
      const child = await runChild({
        config,
        data,
        out,
        options: { resume: true },
        onSpawn: (killNow) => mode === "startup" && armed(killNow),
        onLine: (line, killNow) => {
          const event = JSON.parse(line) as { type: string; step?: number };
          if (timer !== undefined) {
            return;
          }
          if (mode === "anywhere" && event.type === "run-start") {
            armed(killNow);
          } else if (mode === "checkpoint" && event.type === "step-end" && event.step === checkpointStep) {
            armed(killNow);
          }
        },
      });
      clearTimeout(timer);
      const lastStep = child.events.findLast((event) => event.type === "step-end")?.step ?? 0;
      const leftovers = existsSync(out) ? readdirSync(out).filter(isTemporaryName).length : 0;
      killsLog.push(
        `${mode} ${mode === "checkpoint" ? `step${checkpointStep} ` : ""}+${delayMs.toFixed(0)}ms→step ${lastStep}${leftovers > 0 ? " (mid-write)" : ""}${child.signal === null ? " (finished)" : ""}`,
      );
      expect(child.signal === "SIGKILL" || child.code === 0, why(`child failed: ${killsLog.at(-1)}`)).toBe(
        true,
      );
      const resumePoint = await findResumeCheckpoint({ dir: out });
      expect(resumePoint.rejected, why(`a damaged checkpoint after ${killsLog.join(", ")}`)).toEqual([]);
      if (child.signal === null) {
        // This run finished before its kill: check it, and start the next kills on a fresh run.
        await finish(out);
        out = runDir();
      }
    }
    await finish(out);
    if (process.env.PYTHIA_KILLS !== undefined) {
      console.log(`seed ${SEED}: ${killsLog.join("; ")}`);
    }
  }, 3_600_000);
});
