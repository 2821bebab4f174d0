// Training on WebGPU (SwiftShader in CI): the step runs with the fused AdamW kernel and no read-back,
// two runs with one seed give byte-identical checkpoints, and the losses track the wasm run's.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { initCompute, takeWebGPUErrors } from "@pythia/model";
import { describe, expect, it } from "vitest";
import { train, type TrainEvent } from "../../src/index.js";
import { runDir, tinyConfig, tinyDataset } from "../helpers.js";

const manifests = (out: string) =>
  Object.fromEntries(
    readdirSync(out)
      .filter((name) => /^step\d+$/.test(name))
      .map((name) => [name, JSON.parse(readFileSync(join(out, name, "manifest.json"), "utf8"))]),
  );

async function losses(out: string, data: string): Promise<number[]> {
  const events: TrainEvent[] = [];
  await train({
    config: tinyConfig({ steps: 8 }),
    data: { kind: "index-map", prefix: data },
    out,
    onEvent: (event) => events.push(event),
  });
  return events.flatMap((event) => (event.type === "step-end" ? [event.loss] : []));
}

describe("train on webgpu", () => {
  it("is deterministic and tracks the wasm run", async () => {
    const data = tinyDataset();
    await initCompute({ backend: "wasm" });
    const reference = await losses(runDir(), data);
    await initCompute({ backend: "webgpu" });
    const a = runDir();
    const b = runDir();
    const first = await losses(a, data);
    const second = await losses(b, data);
    expect(takeWebGPUErrors()).toEqual([]);
    expect(second).toEqual(first);
    expect(manifests(b)).toEqual(manifests(a));
    expect(Object.keys(manifests(a)).sort()).toEqual(["step0", "step1", "step2", "step4", "step8"]);
    // Different kernels round differently; over 8 steps of a 2-layer model the losses stay close.
    first.forEach((loss, i) => {
      expect(
        Math.abs(loss - (reference[i] as number)),
        `step ${i + 1}: ${loss} vs wasm ${reference[i]}`,
      ).toBeLessThan(2e-3);
    });
    expect(first.at(-1)).toBeLessThan(first[0] as number);
    const run = JSON.parse(readFileSync(join(a, "run.json"), "utf8"));
    expect(run.compute.backend).toBe("webgpu");
    expect(run.compute.webgpu.vendor).toBeTypeOf("string");
  });
});
