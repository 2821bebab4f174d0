import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "./checkpoint.js";
import { initCompute } from "./compute.js";
import { importNeoxCheckpoint, type ImportNeoxEvent } from "./import-neox.js";
import { locateNeoxCheckpoint } from "./neox-checkpoint-layout.js";
import { readSafetensors } from "./safetensors.js";
import { sharedFixture } from "../test/helpers.js";

const interop = sharedFixture("interop");
const suite = interop === null ? describe.skip : describe;

suite("importNeoxCheckpoint (interop fixtures)", () => {
  const root = interop as string;

  it.each([
    ["neox-pipe-tp1", "pipeline", 1],
    ["neox-pipe-tp2", "pipeline", 2],
    ["neox-seq-tp1", "sequential", 1],
  ] as const)(
    "%s gives the converter's tensors exactly (%s, model parallel %d)",
    async (folder, layout, modelParallel) => {
      const out = join(mkdtempSync(join(tmpdir(), "pythia-import-")), "hf");
      const events: ImportNeoxEvent[] = [];
      const result = await importNeoxCheckpoint({ checkpoint: join(root, folder), out }, (event) =>
        events.push(event),
      );
      expect(result.layout).toBe(layout);
      expect(result.modelParallel).toBe(modelParallel);
      expect(result.mlpNaming).toBe("legacy");
      expect(events[0]).toMatchObject({ type: "located", layout, modelParallel });
      expect(events.filter((event) => event.type === "layer-merged")).toHaveLength(2 + 3);
      expect(readdirSync(out).sort()).toEqual([
        "config.json",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
      ]);
      const converter = await readSafetensors(join(root, folder, "hf/model.safetensors"));
      const ours = await readSafetensors(join(out, "model.safetensors"), { toFloat32: false });
      expect([...ours.tensors.keys()].sort()).toEqual([...converter.tensors.keys()].sort());
      for (const [name, expected] of converter.tensors) {
        const actual = ours.tensors.get(name)!;
        expect(actual.dtype, name).toBe("F32");
        expect(actual.shape, name).toEqual(expected.shape);
        let worst = 0;
        for (let i = 0; i < expected.data.length; i++) {
          worst = Math.max(worst, Math.abs((actual.data[i] as number) - (expected.data[i] as number)));
        }
        expect(worst, `${folder} ${name}: max abs diff`).toBe(0);
      }
      const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
      const reference = JSON.parse(readFileSync(join(root, folder, "hf/config.json"), "utf8"));
      for (const key of [
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "vocab_size",
        "rotary_pct",
        "rotary_emb_base",
        "use_parallel_residual",
        "tie_word_embeddings",
        "layer_norm_eps",
        "max_position_embeddings",
        "hidden_act",
      ]) {
        expect(config[key], key).toBe(reference[key]);
      }
    },
  );

  it("writes a folder loadCheckpoint runs: the reference logits within 1e-4", async () => {
    await initCompute({ backend: "wasm" });
    const out = join(mkdtempSync(join(tmpdir(), "pythia-import-")), "hf");
    await importNeoxCheckpoint({ checkpoint: join(root, "neox-pipe-tp2"), out });
    const ids = JSON.parse(readFileSync(join(root, "expected/ids.json"), "utf8")) as number[][];
    const expected = (await readSafetensors(join(root, "expected/logits.safetensors"))).tensors.get(
      "logits",
    )!;
    const model = await loadCheckpoint({ dir: out, trainable: false });
    const { logits } = model.forward(ids);
    const actual = (await logits.data()) as Float32Array;
    let worst = 0;
    for (let i = 0; i < expected.data.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i]! - (expected.data[i] as number)));
    }
    expect(worst).toBeLessThan(1e-4);
    logits.dispose();
    model.dispose();
  });

  it("accepts the global_stepN folder itself and an explicit --config", async () => {
    const location = await locateNeoxCheckpoint(join(root, "neox-pipe-tp2/global_step100"));
    expect(location).toMatchObject({
      step: 100,
      layout: "pipeline",
      modelParallel: 2,
      layers: [0, 2, 3, 5, 6],
    });
    const out = join(mkdtempSync(join(tmpdir(), "pythia-import-")), "hf");
    const result = await importNeoxCheckpoint({
      checkpoint: join(root, "neox-pipe-tp2/global_step100"),
      config: join(root, "neox-pipe-tp2/config.yml"),
      out,
      includeTokenizer: false,
    });
    expect(result.config.numLayers).toBe(2);
    expect(readdirSync(out).sort()).toEqual(["config.json", "model.safetensors"]);
  });

  it("refuses an existing output folder and a YAML whose model parallelism disagrees", async () => {
    const parent = mkdtempSync(join(tmpdir(), "pythia-import-"));
    await expect(
      importNeoxCheckpoint({ checkpoint: join(root, "neox-seq-tp1"), out: parent }),
    ).rejects.toThrow(/already exists/);
    await expect(
      importNeoxCheckpoint({
        checkpoint: join(root, "neox-pipe-tp1"),
        config: join(root, "neox-pipe-tp2/config.yml"),
        out: join(parent, "x"),
      }),
    ).rejects.toThrow(/hold 1 model-parallel rank\(s\) but model-parallel-size is 2; pass the YAML/);
  });
});
