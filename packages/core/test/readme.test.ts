// The README example runs against the built package on a small run directory written with the contract.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { appendMetrics, checkpointDir, writeManifest, writeRunJson } from "../src/run.js";

const packagePath = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));

describe("README", () => {
  it("the opening example reads a run's schedule, checkpoints and losses", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "pythia-core-readme-")), "run");
    mkdirSync(dir);
    writeRunJson({
      dir,
      config: {
        model: {},
        steps: 4,
        batchSize: 2,
        microBatchSize: 2,
        seqLength: 8,
        checkpointEvery: 4,
        seed: 1,
      },
      data: { kind: "preshuffled", prefix: join(dir, "data", "rows") },
    });
    for (const step of [0, 1, 2, 4]) {
      mkdirSync(checkpointDir(dir, step));
      writeFileSync(join(checkpointDir(dir, step), "model.safetensors"), `weights ${step}`);
      await writeManifest({ dir: checkpointDir(dir, step), step });
    }
    for (const [step, loss] of [
      [1, 4.2],
      [2, 4.0],
      [3, 3.9],
      [4, 3.5],
    ] as const) {
      appendMetrics(dir, { type: "train", step, loss, lr: 1e-3, gradNorm: 1, tokensPerSecond: 10 });
    }
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    mkdirSync(packagePath(".tmp"), { recursive: true });
    const file = packagePath(".tmp/readme-example.mjs");
    writeFileSync(file, example);
    const output = execFileSync(process.execPath, [file], {
      encoding: "utf8",
      cwd: tmpdir(),
      env: { ...process.env, RUN_DIR: dir },
    });
    expect(output).toBe(
      [
        `pythia-run/1: 4 steps on preshuffled data ${join(dir, "data", "rows")}`,
        "schedule: 0, 1, 2, 4",
        "complete checkpoints: 0, 1, 2, 4",
        "newest checkpoint verified",
        "train loss 4.200 → 3.500",
        "",
      ].join("\n"),
    );
  });
});
