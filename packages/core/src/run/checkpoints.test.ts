import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  assertNoCheckpoints,
  checkpointDir,
  checkpointName,
  completeCheckpointSteps,
  findResumeCheckpoint,
  isTemporaryName,
  parseCheckpointName,
  readManifest,
  removeTemporaryFiles,
  setAsideCheckpoint,
  temporaryPath,
  verifyCheckpoint,
  writeManifest,
} from "../run.js";

async function checkpoint(run: string, step: number): Promise<string> {
  const dir = checkpointDir(run, step);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.safetensors"), `weights of step ${step}`);
  writeFileSync(join(dir, "config.json"), "{}\n");
  await writeManifest({ dir, step });
  return dir;
}

describe("step{N} names", () => {
  it("makes and parses step{N} and nothing else", () => {
    expect(checkpointName(143000)).toBe("step143000");
    expect([0, 1, 512, 143000].map((step) => parseCheckpointName(checkpointName(step)))).toEqual([
      0, 1, 512, 143000,
    ]);
    for (const name of ["step01", "step", "step-1", "Step1", ".step5.tmp-1-ab", "step5.tmp-1-ab", "final"]) {
      expect(parseCheckpointName(name)).toBeNull();
    }
    expect(() => checkpointName(-1)).toThrow(RangeError);
  });
});

describe("manifest.json", () => {
  it("writes sha256 and sizes of every file, and verify names each file that fails", async () => {
    const run = mkdtempSync(join(tmpdir(), "pythia-manifest-"));
    const dir = await checkpoint(run, 4);
    expect(readManifest(dir)).toEqual({
      step: 4,
      files: {
        "config.json": {
          bytes: 3,
          sha256: "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356", // sha256sum
        },
        "model.safetensors": {
          bytes: 17,
          sha256: "34e043963e91251ddc07917707e05cba39013f5cf699f9fb46b9ac33dde67f61", // sha256sum
        },
      },
    });
    expect(await verifyCheckpoint({ dir })).toMatchObject({ ok: true, failures: [] });

    writeFileSync(join(dir, "model.safetensors"), "weights of step 5"); // same size, other bytes
    truncateSync(join(dir, "config.json"), 1);
    const sizesOnly = await verifyCheckpoint({ dir, hashes: false });
    expect(sizesOnly.failures.map((failure) => [failure.file, failure.problem])).toEqual([
      ["config.json", "size"],
    ]);
    const full = await verifyCheckpoint({ dir });
    expect(full.failures.map((failure) => [failure.file, failure.problem])).toEqual([
      ["config.json", "size"],
      ["model.safetensors", "sha256"],
    ]);
    rmSync(join(dir, "config.json"));
    expect((await verifyCheckpoint({ dir })).failures[0]).toMatchObject({
      file: "config.json",
      problem: "missing",
    });
    writeFileSync(join(dir, "manifest.json"), '{"step": 4, "files": {"a": {"bytes": 1}}}');
    expect(await verifyCheckpoint({ dir })).toMatchObject({
      ok: false,
      manifest: null,
      failures: [
        { file: "manifest.json", problem: "manifest", detail: expect.stringMatching(/files\.a\.sha256/) },
      ],
    });
    expect(() => readManifest(dir)).toThrow(/manifest\.json: expected \{"step": N/);
  });
});

describe("complete checkpoints and temporary names", () => {
  it("lists complete checkpoints ascending, and clean-up removes every temporary scheme", async () => {
    const run = mkdtempSync(join(tmpdir(), "pythia-run-"));
    expect(await completeCheckpointSteps({ dir: join(run, "absent") })).toEqual([]);
    await assertNoCheckpoints({ dir: run });
    for (const step of [0, 1, 2, 4, 8]) {
      await checkpoint(run, step);
    }
    rmSync(join(run, "step2", "model.safetensors")); // damaged
    rmSync(join(run, "step1", "manifest.json")); // still being written
    writeFileSync(join(run, "step8", "model.safetensors"), "weights of step 9"); // bytes differ, size equal
    expect(await completeCheckpointSteps({ dir: run })).toEqual([0, 4, 8]);
    expect(await completeCheckpointSteps({ dir: run, verify: true })).toEqual([0, 4]);
    await expect(assertNoCheckpoints({ dir: run, hint: "use --resume" })).rejects.toThrow(
      `${run} already holds checkpoints (newest: step8); use --resume`,
    );

    const temporary = [
      temporaryPath(join(run, "step12")), // this scheme
      join(run, ".step16.partial-0a1b2c3d"), // the trainer's former partial folder
      join(run, "..step16.partial-0a1b2c3d.tmp-12-deadbeef"), // saveCheckpoint's sibling of it
      join(run, "step4.tmp-copy"), // a former folder copy
    ];
    for (const path of temporary) {
      mkdirSync(path);
      writeFileSync(join(path, "model.safetensors"), "partial");
    }
    mkdirSync(join(run, "index-maps"));
    const npy = temporaryPath(join(run, "index-maps", "x_doc_idx.npy"));
    writeFileSync(npy, "partial");
    writeFileSync(join(run, "index-maps", "x_doc_idx.npy"), "kept");
    // A linked folder (e.g. shared data another process writes) is not searched.
    const linked = mkdtempSync(join(tmpdir(), "pythia-linked-data-"));
    writeFileSync(join(linked, "pile.bin.tmp-7-00ff00ff"), "another process's write");
    symlinkSync(linked, join(run, "data"));
    expect(temporary.every((path) => isTemporaryName(path.split("/").at(-1) as string))).toBe(true);
    expect(removeTemporaryFiles({ dir: run }).sort()).toEqual([...temporary, npy].sort());
    expect(readdirSync(run).sort()).toEqual([
      "data",
      "index-maps",
      "step0",
      "step1",
      "step2",
      "step4",
      "step8",
    ]);
    expect(readdirSync(linked)).toEqual(["pile.bin.tmp-7-00ff00ff"]);
    expect(readdirSync(join(run, "index-maps"))).toEqual(["x_doc_idx.npy"]);
    expect(await completeCheckpointSteps({ dir: run })).toEqual([0, 4, 8]);
  });
});

describe("the checkpoint a resume continues from", () => {
  it("is the newest that matches its manifest's sha256; damaged newer ones are listed and set aside", async () => {
    const run = mkdtempSync(join(tmpdir(), "pythia-resume-"));
    expect(await findResumeCheckpoint({ dir: run })).toEqual({ step: null, rejected: [] });
    for (const step of [0, 4, 8, 12]) {
      await checkpoint(run, step);
    }
    expect(await findResumeCheckpoint({ dir: run })).toEqual({ step: 12, rejected: [] });
    writeFileSync(join(run, "step12", "model.safetensors"), "weights of step 13"); // a flipped byte
    rmSync(join(run, "step8", "config.json"));
    const found = await findResumeCheckpoint({ dir: run });
    expect(found.step).toBe(4);
    expect(
      found.rejected.map((rejected) => [
        rejected.step,
        rejected.dir,
        ...rejected.failures.map((f) => [f.file, f.problem]),
      ]),
    ).toEqual([
      [12, join(run, "step12"), ["model.safetensors", "sha256"]],
      [8, join(run, "step8"), ["config.json", "missing"]],
    ]);
    // A manifest copied from another step is not this checkpoint's.
    writeFileSync(join(run, "step4", "manifest.json"), readFileSync(join(run, "step0", "manifest.json")));
    writeFileSync(join(run, "step4", "model.safetensors"), "weights of step 0");
    expect((await findResumeCheckpoint({ dir: run })).step).toBe(0);

    expect(setAsideCheckpoint({ dir: run, step: 12 })).toBe(join(run, "step12.corrupt"));
    await checkpoint(run, 12);
    writeFileSync(join(run, "step12", "model.safetensors"), "weights of step 13");
    expect(setAsideCheckpoint({ dir: run, step: 12 })).toBe(join(run, "step12.corrupt-2"));
    expect(readdirSync(run).sort()).toEqual([
      "step0",
      "step12.corrupt",
      "step12.corrupt-2",
      "step4",
      "step8",
    ]);
    // Nothing treats a set-aside folder as a checkpoint or as a temporary one.
    expect(removeTemporaryFiles({ dir: run })).toEqual([]);
    expect(await completeCheckpointSteps({ dir: run })).toEqual([0]); // step4 names step 0, step8 lacks a file
  });
});
