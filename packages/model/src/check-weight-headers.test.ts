import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { open, truncate, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TorchTensorToSave, writeTorchCheckpoint } from "@pythia/torch-checkpoint";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { initCompute, loadCheckpoint, ModelError, readSafetensors, type TensorEntry } from "./index.js";
import { fixturePath } from "../test/helpers.js";

// Case 7 of issue 13: a checkpoint's tensor names, shapes and dtypes are checked against config.json
// from the headers alone. The files below declare tensors of up to 2 GiB that are sparse (holes that
// cost no disk); the tests count the bytes read through FileHandle.read to show no data was read.

const TWO_GIB_F32 = 2 ** 29; // elements

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

interface Declared {
  name: string;
  dtype: string;
  shape: number[];
  /** Written elements; absent: a hole of the declared size. */
  data?: Float32Array;
}

const ITEM_BYTES: Record<string, number> = { F32: 4, I64: 8, BOOL: 1 };

/** Writes a safetensors file whose tensors without `data` are holes (a sparse file). */
async function writeSparseSafetensors(path: string, tensors: Declared[]): Promise<void> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const placed: Array<{ begin: number; data?: Float32Array }> = [];
  for (const tensor of tensors) {
    const bytes = tensor.shape.reduce((a, b) => a * b, 1) * (ITEM_BYTES[tensor.dtype] as number);
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + bytes],
    };
    placed.push({ begin: offset, ...(tensor.data === undefined ? {} : { data: tensor.data }) });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const dataStart = 8 + json.length;
  const handle = await open(path, "w");
  try {
    await handle.write(Buffer.concat([prefix, Buffer.from(json)]), 0, dataStart, 0);
    for (const { begin, data } of placed) {
      if (data !== undefined) {
        await handle.write(
          new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
          0,
          data.byteLength,
          dataStart + begin,
        );
      }
    }
  } finally {
    await handle.close();
  }
  await truncate(path, dataStart + offset);
}

/** pythia-micro's tensors, as header entries with their data. */
async function microTensors(): Promise<Declared[]> {
  const { tensors } = await readSafetensors(fixturePath("pythia-micro/model.safetensors"));
  return [...tensors].map(([name, entry]: [string, TensorEntry]) => ({
    name,
    dtype: "F32",
    shape: entry.shape,
    data: entry.data as Float32Array,
  }));
}

function checkpointFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "pythia-headers-"));
  copyFileSync(fixturePath("pythia-micro/config.json"), join(dir, "config.json"));
  return dir;
}

// Counts the bytes every FileHandle.read returns while a test runs.
let bytesRead = 0;
let restore: (() => void) | null = null;
async function countReads(): Promise<void> {
  const probe = await open(fixturePath("pythia-micro/config.json"), "r");
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.read;
  bytesRead = 0;
  prototype.read = async function (this: FileHandle, ...args: unknown[]) {
    const result = await (original as (...a: unknown[]) => Promise<{ bytesRead: number }>).apply(this, args);
    bytesRead += result.bytesRead;
    return result;
  } as FileHandle["read"];
  restore = () => {
    prototype.read = original;
  };
}

afterEach(() => {
  restore?.();
  restore = null;
});

async function loadError(dir: string): Promise<ModelError> {
  await countReads();
  const error = await loadCheckpoint({ dir }).then(
    (model) => {
      model.dispose();
      return null;
    },
    (caught: unknown) => caught,
  );
  restore?.();
  expect(ModelError.isInstance(error), String(error)).toBe(true);
  expect((error as ModelError).code).toBe("CHECKPOINT_FORMAT");
  expect((error as Error).message).not.toContain("\n");
  return error as ModelError;
}

describe("loadCheckpoint checks tensor names, shapes and dtypes from the headers", () => {
  it("refuses a stray 2 GiB tensor in model.safetensors without reading any tensor data", async () => {
    const dir = checkpointFolder();
    const stray = { name: "gpt_neox.layers.0.attention.stray.weight", dtype: "F32", shape: [TWO_GIB_F32] };
    await writeSparseSafetensors(join(dir, "model.safetensors"), [...(await microTensors()), stray]);
    const error = await loadError(dir);
    expect(error.message).toMatch(
      /the weights do not match the configuration \(1 problem\(s\)\): unexpected tensor gpt_neox\.layers\.0\.attention\.stray\.weight \[536870912\]\. Check that config\.json belongs to these weights; no tensor data was read\.$/,
    );
    expect(bytesRead).toBeLessThan(64 * 1024); // the header (a few KiB); the weights are 235 KB
  });

  it("refuses a 2 GiB embedding that config.json does not imply, from the header", async () => {
    const dir = checkpointFolder();
    const tensors = (await microTensors()).map((tensor) =>
      tensor.name === "gpt_neox.embed_in.weight"
        ? { name: tensor.name, dtype: "F32", shape: [2 ** 24, 32] }
        : tensor,
    );
    await writeSparseSafetensors(join(dir, "model.safetensors"), tensors);
    const error = await loadError(dir);
    expect(error.message).toContain(
      "gpt_neox.embed_in.weight has shape [16777216,32], config.json implies [512,32]",
    );
    expect(bytesRead).toBeLessThan(64 * 1024);
  });

  it("refuses a missing tensor and an integer tensor before reading data", async () => {
    const dir = checkpointFolder();
    const tensors = (await microTensors())
      .filter((tensor) => tensor.name !== "gpt_neox.final_layer_norm.bias")
      .map((tensor) =>
        tensor.name === "gpt_neox.layers.1.mlp.dense_4h_to_h.bias"
          ? { name: tensor.name, dtype: "I64", shape: tensor.shape }
          : tensor,
      );
    await writeSparseSafetensors(join(dir, "model.safetensors"), tensors);
    const error = await loadError(dir);
    expect(error.message).toContain("(2 problem(s)): ");
    expect(error.message).toContain("gpt_neox.layers.1.mlp.dense_4h_to_h.bias is I64, not a float tensor");
    expect(error.message).toContain("missing gpt_neox.final_layer_norm.bias [32]");
    expect(bytesRead).toBeLessThan(64 * 1024);
  });

  it("refuses a stray 2 GiB tensor in the second shard after reading only the shard headers", async () => {
    const dir = checkpointFolder();
    const tensors = await microTensors();
    const half = Math.floor(tensors.length / 2);
    const stray = { name: "embed_out.stray", dtype: "F32", shape: [TWO_GIB_F32] };
    const shards = [tensors.slice(0, half), [...tensors.slice(half), stray]];
    const names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      await writeSparseSafetensors(join(dir, names[i] as string), shard);
      for (const tensor of shard) {
        weightMap[tensor.name] = names[i] as string;
      }
    }
    writeFileSync(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const error = await loadError(dir);
    expect(error.message).toMatch(/\(1 problem\(s\)\): unexpected tensor embed_out\.stray \[536870912\]\./);
    expect(bytesRead).toBeLessThan(64 * 1024);
  });

  it("refuses a stray tensor in pytorch_model.bin from the pickle alone", async () => {
    const dir = checkpointFolder();
    const state = new Map<string, TorchTensorToSave>();
    for (const tensor of await microTensors()) {
      state.set(tensor.name, new TorchTensorToSave("F32", tensor.shape, tensor.data as Float32Array));
    }
    state.set("gpt_neox.stray", new TorchTensorToSave("F32", [2 ** 20], new Float32Array(2 ** 20)));
    await writeTorchCheckpoint(join(dir, "pytorch_model.bin"), state);
    const error = await loadError(dir);
    expect(error.message).toMatch(/\(1 problem\(s\)\): unexpected tensor gpt_neox\.stray \[1048576\]\./);
    // The zip directory (searched for in the last 64 KiB) and the pickle; the weights are 235 KB, the stray 4 MiB.
    expect(bytesRead).toBeLessThan(200_000);
    state.delete("gpt_neox.stray");
    await writeTorchCheckpoint(join(dir, "pytorch_model.bin"), state);
    const model = await loadCheckpoint({ dir });
    model.dispose();
  });

  it("skips the legacy attention.bias buffers of old Pythia checkpoints without reading them", async () => {
    const dir = checkpointFolder();
    const buffers = [0, 1].map((layer) => ({
      name: `gpt_neox.layers.${layer}.attention.bias`,
      dtype: "BOOL",
      shape: [1, 1, 2048, 2048],
    }));
    await writeSparseSafetensors(join(dir, "model.safetensors"), [...buffers, ...(await microTensors())]);
    await countReads();
    const model = await loadCheckpoint({ dir });
    restore?.();
    model.dispose();
    expect(bytesRead).toBeLessThan(300_000); // the weights (235 KB), not the two 4 MiB masks
  });
});
