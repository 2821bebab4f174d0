import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openTorchCheckpoint, readTorchStateDict } from "./torch-checkpoint.js";
import { openTorchCheckpointFolder, readTorchCheckpointFolder } from "./torch-checkpoint-folder.js";
import { TorchCheckpointError } from "./torch-checkpoint-error.js";
import { sharedFixture } from "@pythia/core/testing";
import { readSafetensorsF32, roundToBfloat16, roundToFloat16 } from "../test/helpers.js";

const interop = sharedFixture("interop");
const suite = interop === null ? describe.skip : describe;

function expectExact(actual: Float32Array, expected: Float32Array, name: string): void {
  expect(actual.length, name).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  expect(worst, `${name}: max abs diff`).toBe(0);
}

suite("torch checkpoints of the interop fixtures", () => {
  const root = interop as string;
  const reference = readSafetensorsF32(join(root, "expected/model.safetensors"));

  it.each([
    ["bin-f32", "zip", (x: Float32Array) => x],
    ["bin-legacy", "legacy", (x: Float32Array) => x],
    ["bin-views", "zip", (x: Float32Array) => x],
    ["bin-f16", "zip", roundToFloat16],
    ["bin-bf16", "zip", roundToBfloat16],
  ] as const)("%s (%s) holds exactly the reference weights", async (folder, format, round) => {
    const path = join(root, folder, "pytorch_model.bin");
    const checkpoint = await openTorchCheckpoint(path);
    expect(checkpoint.format).toBe(format);
    await checkpoint.close();
    const tensors = await readTorchStateDict(path, { toFloat32: true });
    expect([...tensors.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [name, expected] of reference) {
      const tensor = tensors.get(name)!;
      expect(tensor.dtype).toBe("F32");
      expect(tensor.shape, name).toEqual(expected.shape);
      expectExact(tensor.data as Float32Array, round(expected.data), `${folder} ${name}`);
    }
  });

  it("keeps the stored dtype and raw bits unless asked to convert", async () => {
    const tensors = await readTorchStateDict(join(root, "bin-bf16", "pytorch_model.bin"));
    const embed = tensors.get("gpt_neox.embed_in.weight")!;
    expect(embed.dtype).toBe("BF16");
    expect(embed.data).toBeInstanceOf(Uint16Array);
    const f16 = await readTorchStateDict(join(root, "bin-f16", "pytorch_model.bin"));
    expect(f16.get("embed_out.weight")!.dtype).toBe("F16");
  });

  it("reads the views fixture's shared storage and transposed view", async () => {
    const checkpoint = await openTorchCheckpoint(join(root, "bin-views", "pytorch_model.bin"));
    try {
      const tensors = checkpoint.tensors();
      const embedOut = tensors.get("embed_out.weight")!;
      expect(embedOut.isContiguous).toBe(false);
      expect([...embedOut.stride]).toEqual([1, 1024]);
      const bias = tensors.get("gpt_neox.layers.0.input_layernorm.bias")!;
      const weight = tensors.get("gpt_neox.layers.1.post_attention_layernorm.weight")!;
      expect(bias.storage).toBe(weight.storage);
      expect([bias.storageOffset, weight.storageOffset]).toEqual([320, 1664]);
    } finally {
      await checkpoint.close();
    }
  });

  it("reads a sharded folder through pytorch_model.bin.index.json", async () => {
    const folder = await readTorchCheckpointFolder(join(root, "bin-sharded"), { toFloat32: true });
    expect(folder!.files.map((file) => file.split("/").pop())).toEqual([
      "pytorch_model-00001-of-00002.bin",
      "pytorch_model-00002-of-00002.bin",
    ]);
    for (const [name, expected] of reference) {
      expectExact(folder!.tensors.get(name)!.data as Float32Array, expected.data, name);
    }
  });

  it("opens a sharded folder with every tensor's description before reading any data", async () => {
    const opened: string[] = [];
    const folder = await openTorchCheckpointFolder(join(root, "bin-sharded"), {
      beforeOpen: (file) => void opened.push(file.split("/").pop()!),
    });
    try {
      expect(opened).toEqual([
        "pytorch_model.bin.index.json",
        "pytorch_model-00001-of-00002.bin",
        "pytorch_model-00002-of-00002.bin",
      ]);
      expect([...folder!.tensors.keys()].sort()).toEqual([...reference.keys()].sort());
      for (const [name, expected] of reference) {
        expect(folder!.tensors.get(name)!.shape, name).toEqual(expected.shape);
      }
      const [name, expected] = [...reference][0]!;
      expectExact((await folder!.read(name, { toFloat32: true })).data as Float32Array, expected.data, name);
    } finally {
      await folder!.close();
    }
  });

  it("returns null for a folder without PyTorch weights", async () => {
    expect(await readTorchCheckpointFolder(join(root, "expected"))).toBeNull();
  });

  it("reads a DeepSpeed training-state file whose module is None", async () => {
    const checkpoint = await openTorchCheckpoint(
      join(root, "neox-pipe-tp1/global_step100/mp_rank_00_model_states.pt"),
    );
    const state = checkpoint.root as Map<string, unknown>;
    expect(state.get("module")).toBeNull();
    expect(state.get("iteration")).toBe(100);
    expect(checkpoint.tensors().size).toBe(0);
    await checkpoint.close();
  });

  it("names the file when it is not a torch checkpoint", async () => {
    const path = join(root, "expected/model.safetensors");
    await expect(openTorchCheckpoint(path)).rejects.toThrow(
      /model\.safetensors: header: neither a zip archive nor a pickle/,
    );
    await expect(openTorchCheckpoint(join(root, "nope.bin"))).rejects.toSatisfy(
      (error: unknown) => TorchCheckpointError.isInstance(error) && error.code === "IO",
    );
  });
});
