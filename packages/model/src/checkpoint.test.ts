import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  GPTNeoXModel,
  initCompute,
  loadCheckpoint,
  ModelError,
  readSafetensors,
  saveCheckpoint,
  toHfConfig,
  writeSafetensors,
} from "./index.js";
import { fixturePath } from "../test/helpers.js";

beforeAll(async () => {
  await initCompute({ backend: "wasm" });
});

const temporary = () => mkdtempSync(join(tmpdir(), "pythia-ckpt-"));

describe("saveCheckpoint / loadCheckpoint", () => {
  it("round-trips every tensor exactly and writes what transformers loads", async () => {
    const model = await loadCheckpoint({ dir: fixturePath("pythia-micro") });
    const dir = join(temporary(), "step100");
    await saveCheckpoint({ model, dir });
    expect(readdirSync(dir).sort()).toEqual([
      "config.json",
      "model.safetensors",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))).toEqual(toHfConfig(model.config));
    const again = await loadCheckpoint({ dir });
    const a = await model.toTensors();
    const b = await again.toTensors();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, tensor] of a) {
      expect(b.get(name)?.data, name).toEqual(tensor.data);
    }
    // Same tensors, names and bytes as the HF-written fixture (which also sorts names and stores F32).
    const saved = await readSafetensors(join(dir, "model.safetensors"));
    const original = await readSafetensors(fixturePath("pythia-micro/model.safetensors"));
    expect([...saved.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
    expect(saved.metadata).toEqual({ format: "pt" });
    model.dispose();
    again.dispose();
  });

  it("stores F16/BF16 (torch_dtype in config.json) and shards", async () => {
    const model = await loadCheckpoint({ dir: fixturePath("tiny-v512-f32") });
    const root = temporary();
    await saveCheckpoint({ model, dir: join(root, "bf16"), dtype: "BF16", includeTokenizer: false });
    expect(JSON.parse(readFileSync(join(root, "bf16/config.json"), "utf8")).torch_dtype).toBe("bfloat16");
    const bf16 = await readSafetensors(join(root, "bf16/model.safetensors"), { toFloat32: false });
    expect(new Set([...bf16.tensors.values()].map((t) => t.dtype))).toEqual(new Set(["BF16"]));
    await saveCheckpoint({
      model,
      dir: join(root, "sharded"),
      maxShardBytes: 200_000,
      includeTokenizer: false,
    });
    const files = readdirSync(join(root, "sharded")).sort();
    expect(files).toContain("model.safetensors.index.json");
    expect(files.filter((file) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(file)).length).toBeGreaterThan(
      1,
    );
    const reloaded = await loadCheckpoint({ dir: join(root, "sharded") });
    expect((await reloaded.toTensors()).get("embed_out.weight")?.data).toEqual(
      (await model.toTensors()).get("embed_out.weight")?.data,
    );
    model.dispose();
    reloaded.dispose();
  });

  it("never overwrites by accident and leaves no temporary directory", async () => {
    const model = await loadCheckpoint({ dir: fixturePath("pythia-micro") });
    const root = temporary();
    await saveCheckpoint({ model, dir: join(root, "ckpt"), includeTokenizer: false });
    await expect(saveCheckpoint({ model, dir: join(root, "ckpt") })).rejects.toThrow(
      /already exists; choose a new directory or pass overwrite: true/,
    );
    await saveCheckpoint({ model, dir: join(root, "ckpt"), overwrite: true, includeTokenizer: false });
    expect(readdirSync(root)).toEqual(["ckpt"]);
    model.dispose();
  });

  it("ignores the legacy buffers of old Pythia checkpoints", async () => {
    const dir = temporary();
    cpSync(fixturePath("pythia-micro/config.json"), join(dir, "config.json"));
    const { tensors } = await readSafetensors(fixturePath("pythia-micro/model.safetensors"));
    tensors.set("gpt_neox.layers.0.attention.bias", {
      dtype: "U8",
      shape: [1, 1, 4, 4],
      data: new Uint8Array(16),
    });
    tensors.set("gpt_neox.layers.0.attention.masked_bias", {
      dtype: "F32",
      shape: [],
      data: Float32Array.of(-1e9),
    });
    tensors.set("gpt_neox.layers.1.attention.rotary_emb.inv_freq", {
      dtype: "F32",
      shape: [1],
      data: Float32Array.of(1),
    });
    await writeSafetensors(join(dir, "model.safetensors"), tensors);
    const model = await loadCheckpoint({ dir });
    expect(Object.keys(model.params)).toHaveLength(model.specs.length);
    model.dispose();
  });

  it("explains what is wrong with a bad checkpoint directory", async () => {
    const empty = temporary();
    await expect(loadCheckpoint({ dir: empty })).rejects.toThrow(
      /no config\.json; a checkpoint directory holds config\.json and model\.safetensors/,
    );
    writeFileSync(join(empty, "config.json"), "{ nope");
    await expect(loadCheckpoint({ dir: empty })).rejects.toThrow(/config\.json: not valid JSON/);
    cpSync(fixturePath("tiny-v512-f32/config.json"), join(empty, "config.json"));
    await expect(loadCheckpoint({ dir: empty })).rejects.toThrow(ModelError);
    cpSync(fixturePath("pythia-micro/model.safetensors"), join(empty, "model.safetensors"));
    const error = await loadCheckpoint({ dir: empty }).catch((caught: unknown) => caught);
    expect(ModelError.isInstance(error) && error.code).toBe("CHECKPOINT_FORMAT");
    expect((error as Error).message).toMatch(
      /do not match the configuration .*gpt_neox\.embed_in\.weight has shape \[512,32\], config\.json implies \[512,64\]/,
    );
    expect(existsSync(join(empty, "model.safetensors"))).toBe(true);
  });

  it("initialises deterministically with the GPT-NeoX init stds", async () => {
    const config = (await loadCheckpoint({ dir: fixturePath("pythia-micro") })).config;
    const a = await GPTNeoXModel.initialize({ config, seed: 5 }).toTensors();
    const b = await GPTNeoXModel.initialize({ config, seed: 5 }).toTensors();
    expect(a.get("gpt_neox.layers.1.mlp.dense_4h_to_h.weight")?.data).toEqual(
      b.get("gpt_neox.layers.1.mlp.dense_4h_to_h.weight")?.data,
    );
    const std = (data: Float32Array) => Math.sqrt(data.reduce((sum, x) => sum + x * x, 0) / data.length);
    expect(std(a.get("gpt_neox.layers.0.attention.query_key_value.weight")!.data)).toBeCloseTo(
      Math.sqrt(2 / (5 * 32)),
      2,
    );
    expect(std(a.get("gpt_neox.layers.0.attention.dense.weight")!.data)).toBeCloseTo(
      2 / (2 * Math.sqrt(32)),
      2,
    );
    expect(a.get("gpt_neox.layers.0.input_layernorm.weight")!.data.every((x) => x === 1)).toBe(true);
    expect(a.get("gpt_neox.layers.0.attention.dense.bias")!.data.every((x) => x === 0)).toBe(true);
  });
});
