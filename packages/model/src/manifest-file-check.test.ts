import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkpointDir, writeManifest } from "@pythia/core/run";
import { beforeAll, describe, expect, it } from "vitest";
import { initCompute, loadCheckpoint, ModelError, saveCheckpoint, type GPTNeoXModel } from "./index.js";
import { fixturePath } from "../test/helpers.js";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

/** A `@pythia/trainer`-style checkpoint `<run>/step8`: saved weights plus a manifest of every file. */
async function manifestCheckpoint(options: { maxShardBytes?: number } = {}): Promise<string> {
  const model = await loadCheckpoint({ dir: fixturePath("pythia-micro") });
  const dir = checkpointDir(mkdtempSync(join(tmpdir(), "pythia-verify-")), 8);
  await saveCheckpoint({ model, dir, includeTokenizer: false, ...options });
  model.dispose();
  await writeManifest({ dir, step: 8 });
  return dir;
}

/** Flips one bit of the byte `fromEnd` bytes before the end of `path` (inside the tensor data). */
function flipBit(path: string, fromEnd = 100): void {
  const bytes = readFileSync(path);
  const at = bytes.length - fromEnd;
  bytes[at] = (bytes[at] as number) ^ 0x04;
  writeFileSync(path, bytes);
}

/** Every weight of a model, concatenated in state-dict order. */
async function allWeights(model: GPTNeoXModel): Promise<number[]> {
  return [...(await model.toTensors()).values()].flatMap((tensor) => [...tensor.data]);
}

describe("loadCheckpoint verifies manifest.json", () => {
  it("loads an intact checkpoint with a manifest", async () => {
    const dir = await manifestCheckpoint();
    const model = await loadCheckpoint({ dir });
    const reference = await loadCheckpoint({ dir: fixturePath("pythia-micro") });
    expect(await allWeights(model)).toEqual(await allWeights(reference));
    model.dispose();
    reference.dispose();
  });

  it("refuses a bit flip in step8/model.safetensors with one line naming the file and the fix", async () => {
    const dir = await manifestCheckpoint();
    flipBit(join(dir, "model.safetensors"));
    const error = await loadCheckpoint({ dir }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(ModelError.isInstance(error)).toBe(true);
    expect((error as ModelError).code).toBe("CHECKPOINT_CORRUPT");
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toMatch(
      /step8\/model\.safetensors: sha256 [0-9a-f]{12}… differs from [0-9a-f]{12}… in .*step8\/manifest\.json; the file is damaged: download or copy the checkpoint again, or use an earlier step$/,
    );
  });

  it("loads the damaged file anyway with verify: false (different weights)", async () => {
    const dir = await manifestCheckpoint();
    flipBit(join(dir, "model.safetensors"));
    const damaged = await loadCheckpoint({ dir, verify: false });
    const reference = await loadCheckpoint({ dir: fixturePath("pythia-micro") });
    expect(await allWeights(damaged)).not.toEqual(await allWeights(reference));
    damaged.dispose();
    reference.dispose();
  });

  it("checks config.json, each shard and the index of a sharded checkpoint", async () => {
    const dir = await manifestCheckpoint({ maxShardBytes: 60_000 });
    const pristine = `${dir}-pristine`;
    cpSync(dir, pristine, { recursive: true });
    const shards = readdirSync(dir).filter((name) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(name));
    expect(shards.length).toBeGreaterThan(2);
    const second = shards.sort()[1] as string;
    flipBit(join(dir, second), 10);
    await expect(loadCheckpoint({ dir })).rejects.toThrow(
      new RegExp(`step8/${second.replaceAll(".", "\\.")}: sha256 .* differs`),
    );
    cpSync(pristine, dir, { recursive: true });
    appendFileSync(join(dir, "config.json"), " ");
    await expect(loadCheckpoint({ dir })).rejects.toThrow(
      /step8\/config\.json: \d+ bytes, but .*manifest\.json lists \d+; the file is damaged/,
    );
    cpSync(pristine, dir, { recursive: true });
    const index = join(dir, "model.safetensors.index.json");
    const text = readFileSync(index, "utf8");
    const changed = text.replace(
      /"total_size": (\d)/,
      (_, digit: string) => `"total_size": ${(Number(digit) + 1) % 10}`,
    );
    expect(changed).not.toBe(text);
    writeFileSync(index, changed);
    await expect(loadCheckpoint({ dir })).rejects.toThrow(
      /step8\/model\.safetensors\.index\.json: sha256 .* differs/,
    );
    const model = await loadCheckpoint({ dir: pristine });
    model.dispose();
  });

  it("refuses a weight file the manifest does not list, and a malformed manifest", async () => {
    const dir = await manifestCheckpoint();
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
      files: Record<string, unknown>;
    };
    delete manifest.files["model.safetensors"];
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    await expect(loadCheckpoint({ dir })).rejects.toThrow(
      /step8\/model\.safetensors: not listed in .*manifest\.json, so it cannot be verified/,
    );
    writeFileSync(join(dir, "manifest.json"), "{");
    await expect(loadCheckpoint({ dir })).rejects.toSatisfy(
      (error: unknown) =>
        ModelError.isInstance(error) &&
        error.code === "CHECKPOINT_CORRUPT" &&
        /manifest\.json: not JSON/.test(error.message),
    );
  });
});
