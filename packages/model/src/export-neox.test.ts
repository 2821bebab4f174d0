import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTorchCheckpoint, readTorchStateDict } from "@pythia/torch-checkpoint";
import { describe, expect, it } from "vitest";
import { exportNeoxCheckpoint, neoxVocabDivisor } from "./export-neox.js";
import { importNeoxCheckpoint } from "./import-neox.js";
import { readSafetensors } from "./safetensors.js";
import { sharedFixture } from "../test/helpers.js";

const interop = sharedFixture("interop");
const suite = interop === null ? describe.skip : describe;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  return worst;
}

suite("exportNeoxCheckpoint (interop fixtures)", () => {
  const root = interop as string;
  const hf = join(root, "expected");

  it.each([
    [1, "pipeline", "legacy"],
    [2, "pipeline", "legacy"],
    [1, "sequential", "legacy"],
    [2, "sequential", "new"],
    [2, "pipeline", "new"],
    [4, "pipeline", "legacy"],
  ] as const)(
    "model parallel %d, %s layout, %s MLP names: our import gives back every tensor exactly",
    async (modelParallel, layout, mlpNaming) => {
      const work = mkdtempSync(join(tmpdir(), "pythia-export-"));
      const out = join(work, "neox");
      const result = await exportNeoxCheckpoint({
        checkpoint: hf,
        out,
        modelParallel,
        layout,
        mlpNaming,
        step: 1000,
      });
      expect(result.tag).toBe("global_step1000");
      expect(readFileSync(join(out, "latest"), "utf8")).toBe("global_step1000");
      const files = readdirSync(join(out, "global_step1000")).sort();
      if (layout === "pipeline") {
        expect(files).toEqual(
          [
            "configs",
            ...[0, 2, 3, 5, 6].flatMap((layer) =>
              Array.from(
                { length: modelParallel },
                (_, rank) => `layer_0${layer}-model_0${rank}-model_states.pt`,
              ),
            ),
            ...Array.from({ length: modelParallel }, (_, rank) => `mp_rank_0${rank}_model_states.pt`),
          ].sort(),
        );
      } else {
        expect(files).toEqual([
          "configs",
          ...Array.from({ length: modelParallel }, (_, rank) => `mp_rank_0${rank}_model_states.pt`),
        ]);
      }
      const imported = await importNeoxCheckpoint({
        checkpoint: out,
        out: join(work, "hf"),
        includeTokenizer: false,
      });
      expect(imported.mlpNaming).toBe(mlpNaming);
      expect(imported.layout).toBe(layout);
      expect(imported.modelParallel).toBe(modelParallel);
      const original = await readSafetensors(join(hf, "model.safetensors"));
      const back = await readSafetensors(join(work, "hf/model.safetensors"));
      expect([...back.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
      for (const [name, tensor] of original.tensors) {
        expect(back.tensors.get(name)!.shape, name).toEqual(tensor.shape);
        expect(
          maxAbsDiff(back.tensors.get(name)!.data as Float32Array, tensor.data as Float32Array),
          name,
        ).toBe(0);
      }
    },
  );

  it.each([
    ["bin-f16", "F16"],
    ["bin-bf16", "BF16"],
  ] as const)(
    "a %s checkpoint goes out and back in its own dtype, bit for bit (2 ranks)",
    async (folder, dtype) => {
      const work = mkdtempSync(join(tmpdir(), "pythia-export-"));
      await exportNeoxCheckpoint({
        checkpoint: join(root, folder),
        out: join(work, "neox"),
        modelParallel: 2,
      });
      const yaml = readFileSync(join(work, "neox/neox.yml"), "utf8");
      expect(yaml).toMatch(dtype === "F16" ? /fp16:\n {2}enabled: true/ : /bf16:\n {2}enabled: true/);
      const layer = await readTorchStateDict(
        join(work, "neox/global_step0/layer_02-model_01-model_states.pt"),
      );
      expect(layer.get("attention.query_key_value.weight")!.dtype).toBe(dtype);
      await importNeoxCheckpoint({
        checkpoint: join(work, "neox"),
        out: join(work, "hf"),
        includeTokenizer: false,
      });
      const back = await readSafetensors(join(work, "hf/model.safetensors"), { toFloat32: false });
      const original = await readTorchStateDict(join(root, folder, "pytorch_model.bin"));
      expect(back.tensors.size).toBe(original.size);
      for (const [name, tensor] of original) {
        const got = back.tensors.get(name)!;
        expect(got.dtype, name).toBe(dtype);
        expect(got.data, name).toEqual(tensor.data);
      }
    },
  );

  it("splits like GPT-NeoX: the exported rank files hold the fixture's model-parallel shards", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "pythia-export-")), "neox");
    await exportNeoxCheckpoint({ checkpoint: hf, out, modelParallel: 2 });
    for (const file of [
      "layer_00-model_01-model_states.pt",
      "layer_02-model_01-model_states.pt",
      "layer_03-model_00-model_states.pt",
      "layer_05-model_01-model_states.pt",
      "layer_06-model_01-model_states.pt",
    ]) {
      const ours = await readTorchStateDict(join(out, "global_step0", file));
      const theirs = await readTorchStateDict(join(root, "neox-pipe-tp2/global_step100", file));
      expect([...ours.keys()].sort(), file).toEqual([...theirs.keys()].sort());
      for (const [name, tensor] of theirs) {
        if (name.endsWith("dense.bias") || name.endsWith("4h_to_h.bias")) {
          continue; // row-parallel biases: theirs are halves, ours the bias on rank 0 (both sum to it)
        }
        expect(ours.get(name)!.shape, `${file} ${name}`).toEqual(tensor.shape);
        expect(
          maxAbsDiff(ours.get(name)!.data as Float32Array, tensor.data as Float32Array),
          `${file} ${name}`,
        ).toBe(0);
      }
    }
    const state = await openTorchCheckpoint(join(out, "global_step0/mp_rank_01_model_states.pt"));
    const root0 = state.root as Map<string, unknown>;
    expect(root0.get("module")).toBeNull();
    expect(root0.get("mp_world_size")).toBe(2);
    expect((root0.get("args") as Map<string, unknown>).get("padded_vocab_size")).toBe(1024);
    await state.close();
    const yaml = readFileSync(join(out, "neox.yml"), "utf8");
    expect(yaml).toContain("model-parallel-size: 2");
    expect(yaml).toContain("pipe-parallel-size: 1");
    expect(yaml).toContain("num-layers: 2");
  });

  it("refuses a model parallelism that does not divide the heads, and picks GPT-NeoX's vocabulary padding", async () => {
    await expect(
      exportNeoxCheckpoint({
        checkpoint: hf,
        out: join(mkdtempSync(join(tmpdir(), "pythia-export-")), "x"),
        modelParallel: 3,
      }),
    ).rejects.toThrow(/4 attention heads do not split into 3/);
    expect(neoxVocabDivisor(50304, 1)).toBe(128);
    expect(neoxVocabDivisor(50304, 2)).toBe(96); // ceil(50277 / 192) · 192 = 50304
    expect(neoxVocabDivisor(1024, 2)).toBe(128);
  });
});
