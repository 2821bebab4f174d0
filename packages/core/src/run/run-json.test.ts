import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readRunJson, readRunJsonIfExists, RUN_FORMAT, RunError, writeRunJson } from "../run.js";

const LEGACY = fileURLToPath(new URL("../../test/fixtures/legacy-run", import.meta.url));
const LEGACY_NAME = "pythia-tiny-20261203-074500";
const config = {
  model: { vocabSize: 64 },
  steps: 2,
  batchSize: 4,
  microBatchSize: 2,
  seqLength: 8,
  checkpointEvery: 2,
  seed: 7,
  lr: 0.003,
};

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "pythia-run-json-"));
}

describe("writeRunJson / readRunJson", () => {
  it("stores paths inside the run relative to it and outside it absolute; a moved run reads from any cwd", () => {
    const root = scratch();
    const run = join(root, "runs", "a");
    mkdirSync(join(run, "data"), { recursive: true });
    const outside = join(root, "corpus", "pile_text_document");
    const stored = writeRunJson({
      dir: "runs/a",
      cwd: root,
      config,
      data: { kind: "preshuffled", prefix: "runs/a/data/tiny_text_document", validationPrefix: outside },
      compute: { backend: "cpu", webgpu: { adapter: "x" } },
      versions: { tfjs: "4.22.0" },
    });
    expect(stored.format).toBe(RUN_FORMAT);
    expect(stored.data).toEqual({
      kind: "preshuffled",
      prefix: "data/tiny_text_document",
      validationPrefix: outside,
    });
    const moved = join(root, "elsewhere", "b");
    mkdirSync(join(root, "elsewhere"));
    renameSync(run, moved);
    const read = readRunJson({ dir: moved, cwd: scratch() });
    expect(read.format).toBe(RUN_FORMAT);
    expect(read.dir).toBe(moved);
    expect(read.data.prefix).toBe(join(moved, "data", "tiny_text_document"));
    expect(read.data.kind === "preshuffled" && read.data.validationPrefix).toBe(outside);
    expect(read.compute).toEqual({ backend: "cpu", webgpu: { adapter: "x" } });
    expect(read.config).toMatchObject(config);
  });

  it("reads a run.json in today's (unversioned) format, found from another cwd and after a move", () => {
    for (const where of ["in-place", "moved"] as const) {
      const root = scratch();
      const original = join(root, "repo", "runs", LEGACY_NAME);
      cpSync(LEGACY, original, { recursive: true });
      let dir = original;
      if (where === "moved") {
        dir = join(root, "copied-run");
        renameSync(original, dir);
      }
      const run = readRunJson({ dir, cwd: scratch() });
      expect(run.format).toBe("legacy");
      expect(run.config).toMatchObject({ steps: 2, batchSize: 4, seqLength: 8, seed: 7 });
      expect(run.data.kind).toBe("index-map");
      expect(run.data.prefix).toBe(join(dir, "data", "tiny_text_document"));
      expect(run.data.kind === "index-map" && run.data.indexMaps?.docIdx).toBe(
        join(dir, "index-maps", "tiny_text_document_train_indexmap_9ns_8sl_7s_doc_idx.npy"),
      );
      expect(run.compute).toMatchObject({ backend: "cpu" });
    }
  });

  it("reads a legacy run whose data lies outside it relative to where training started", () => {
    const root = scratch();
    const dir = join(root, "runs", "r");
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, "corpora"));
    writeFileSync(join(root, "corpora", "pile.idx"), "");
    const legacy = JSON.parse(readFileSync(join(LEGACY, "run.json"), "utf8"));
    legacy.data = { kind: "preshuffled", prefix: "corpora/pile" };
    writeFileSync(join(dir, "run.json"), JSON.stringify(legacy));
    expect(readRunJson({ dir, cwd: scratch() }).data.prefix).toBe(join(root, "corpora", "pile"));
  });

  it("returns null without run.json and names the file, field and fix when it is bad", () => {
    const dir = scratch();
    expect(readRunJsonIfExists({ dir })).toBeNull();
    expect(() => readRunJson({ dir })).toThrow(/no run\.json; pass the output directory/);
    writeFileSync(join(dir, "run.json"), "{");
    expect(() => readRunJson({ dir })).toThrow(RunError);
    writeFileSync(join(dir, "run.json"), JSON.stringify({ config, data: { kind: "shards", prefix: "x" } }));
    expect(() => readRunJson({ dir })).toThrow(
      new RegExp(
        `${resolve(dir, "run.json").replace(/[/\\.]/g, "\\$&")}: not a @pythia/trainer run\\.json \\(data\\.kind`,
      ),
    );
    writeFileSync(
      join(dir, "run.json"),
      JSON.stringify({ config: { ...config, steps: 0 }, data: { kind: "preshuffled", prefix: "p" } }),
    );
    expect(() => readRunJson({ dir })).toThrow(/config\.steps/);
  });
});
