import { linkSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCompute } from "@pythia/model";
import { beforeAll, describe, expect, it } from "vitest";
import { sweep, type SweepEvent } from "./sweep.js";
import { sharedData } from "../test/helpers.js";
import { tinyRun } from "../test/damaged-run.js";

// A sweep's step{N}.json is its resume marker and metrics.csv/json its table: each is replaced whole
// (a temporary sibling renamed onto it), a torn marker from an older version is evaluated again, and
// step{N}/ folders that are skipped are named in a warning.

const dataDir = sharedData("eval");

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

/** Bytes as token ids below the tiny model's vocabulary. */
const tokenizer = { encode: (text: string) => [...Buffer.from(text, "utf8")].map((byte) => byte % 64) };

describe.runIf(dataDir !== null)("sweep's files", () => {
  it("re-evaluates a torn step0.json, replaces every file whole, and warns about skipped step dirs", async () => {
    const runDir = await tinyRun({ steps: [0], maxPositionEmbeddings: 256 });
    mkdirSync(join(runDir, "step4")); // no manifest: still being written
    const outputDir = join(runDir, "evals");
    mkdirSync(outputDir);
    const marker = join(outputDir, "step0.json");
    writeFileSync(marker, '{"results": {"wsc": {"acc": 0.5'); // torn by an older, non-atomic write
    writeFileSync(join(outputDir, "metrics.csv"), "old table\n");
    // Second names of the old files: a write in place would change them too.
    linkSync(marker, join(runDir, "old-marker"));
    linkSync(join(outputDir, "metrics.csv"), join(runDir, "old-metrics.csv"));
    const events: SweepEvent[] = [];
    const result = await sweep({
      runDir,
      tasks: ["wsc"],
      dataDir: dataDir as string,
      tokenizer,
      outputDir,
      limit: 3,
      batchSize: 4,
      bootstrapIters: 10,
      onEvent: (event) => events.push(event),
    });
    const warnings = events.flatMap((event) => (event.type === "warning" ? [event.message] : []));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toBe(
      `skipping ${join(runDir, "step4")}/: no manifest.json (a save that was interrupted or is still running); evaluate it once the trainer has finished writing it`,
    );
    expect(warnings[1]).toMatch(
      new RegExp(
        `^${marker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is unreadable \\(.*JSON.*\\); evaluating that step again$`,
      ),
    );
    expect(events.find((event) => event.type === "checkpoint-end")).toMatchObject({ reused: false });
    const written = JSON.parse(readFileSync(marker, "utf8"));
    expect(written.config.limit).toBe(3);
    expect(written.results.wsc.acc).toBe(result.results[0]?.results.wsc?.acc);
    expect(readFileSync(join(runDir, "old-marker"), "utf8")).toBe('{"results": {"wsc": {"acc": 0.5');
    expect(readFileSync(join(runDir, "old-metrics.csv"), "utf8")).toBe("old table\n");
    expect(readFileSync(join(outputDir, "metrics.csv"), "utf8").split("\n")[1]).toMatch(/^0,wsc,acc,/);

    // The marker now resumes the step.
    const again: SweepEvent[] = [];
    await sweep({
      runDir,
      tasks: ["wsc"],
      dataDir: dataDir as string,
      tokenizer,
      outputDir,
      limit: 3,
      onEvent: (event) => again.push(event),
    });
    expect(again.find((event) => event.type === "checkpoint-end")).toMatchObject({ reused: true });
  });

  it("refuses an empty task list", async () => {
    await expect(
      sweep({
        runDir: await tinyRun({ steps: [0], maxPositionEmbeddings: 256 }),
        tasks: [],
        dataDir: dataDir as string,
        tokenizer,
        outputDir: tmpdir(),
      }),
    ).rejects.toThrow("no tasks to evaluate; give at least one task name");
  });
});
