import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ForbiddenGlobalError } from "@pythia/torch-checkpoint";
import { beforeAll, describe, expect, it } from "vitest";
import { initCompute, loadCheckpoint, loadWeightTensors, readSafetensors } from "./index.js";
import { sharedFixture } from "../test/helpers.js";

const interop = sharedFixture("interop");
const suite = interop === null ? describe.skip : describe;

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

suite("loadCheckpoint on PyTorch .bin folders (interop fixtures)", () => {
  const root = interop as string;
  const ids = JSON.parse(readFileSync(join(root, "expected/ids.json"), "utf8")) as number[][];

  it.each([
    ["bin-f32", "logits.safetensors"],
    ["bin-legacy", "logits.safetensors"],
    ["bin-views", "logits.safetensors"],
    ["bin-sharded", "logits.safetensors"],
    ["bin-f16", "logits-f16.safetensors"],
    ["bin-bf16", "logits-bf16.safetensors"],
  ])("%s gives the reference logits (%s) within 1e-4", async (folder, reference) => {
    const expected = (await readSafetensors(join(root, "expected", reference))).tensors.get("logits")!;
    const model = await loadCheckpoint({ dir: join(root, folder), trainable: false });
    const { logits } = model.forward(ids);
    expect(logits.shape).toEqual(expected.shape);
    const actual = (await logits.data()) as Float32Array;
    const want = expected.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs((actual[i] as number) - (want[i] as number)));
    }
    expect(worst, `${folder}: max abs logit diff ${worst}`).toBeLessThan(1e-4);
    logits.dispose();
    model.dispose();
  });

  it("prefers model.safetensors over pytorch_model.bin, and pytorch_model.bin over its index", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-weights-"));
    copyFileSync(join(root, "bin-bf16/pytorch_model.bin"), join(dir, "pytorch_model.bin"));
    const bin = await loadWeightTensors(dir);
    expect(bin.files).toEqual([join(dir, "pytorch_model.bin")]);
    copyFileSync(
      join(root, "bin-sharded/pytorch_model.bin.index.json"),
      join(dir, "pytorch_model.bin.index.json"),
    );
    expect((await loadWeightTensors(dir)).files).toEqual([join(dir, "pytorch_model.bin")]);
    copyFileSync(join(root, "expected/model.safetensors"), join(dir, "model.safetensors"));
    const safetensors = await loadWeightTensors(dir);
    expect(safetensors.files).toEqual([join(dir, "model.safetensors")]);
    // The bf16 file rounds the weights; the safetensors file holds them exactly.
    const name = "gpt_neox.embed_in.weight";
    expect(safetensors.tensors.get(name)!.data).not.toEqual(bin.tensors.get(name)!.data);
  });

  it("names the missing index of a sharded .bin folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-weights-"));
    copyFileSync(
      join(root, "bin-sharded/pytorch_model-00001-of-00002.bin"),
      join(dir, "pytorch_model-00001-of-00002.bin"),
    );
    await expect(loadWeightTensors(dir)).rejects.toThrow(
      /pytorch_model\.bin\.index\.json: missing, but pytorch_model-00001-of-00002\.bin is there; download pytorch_model\.bin\.index\.json too/,
    );
  });

  it("refuses a hostile pytorch_model.bin without running it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-weights-"));
    copyFileSync(join(root, "malicious/os-system.bin"), join(dir, "pytorch_model.bin"));
    await expect(loadWeightTensors(dir)).rejects.toSatisfy(
      (error: unknown) => ForbiddenGlobalError.isInstance(error) && error.message.includes("posix.system"),
    );
  });
});
