import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pythiaPreset } from "@pythia/model";
import { parseTrainConfig } from "./trainer.js";
import { describe, expect, it } from "vitest";
import { readNeoxConfigFile, toNeoxTrainingYaml } from "./neox-training-config.js";

const dir = mkdtempSync(join(tmpdir(), "pythia-train-neox-"));
function yamlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("GPT-NeoX YAML", () => {
  it("reads Pythia's training keys, hyphens and underscores alike", () => {
    // The keys and values of Pythia's models/160M/pythia-160m.yml (JSON-like YAML, comments, trailing comma).
    const path = yamlFile(
      "pythia-160m.yml",
      `{
  "num-layers": 12, "hidden-size": 768, "num-attention-heads": 12, "seq-length": 2048,
  "max-position-embeddings": 2048, "pos-emb": "rotary", "rotary-pct": 0.25, "no-weight-tying": true,
  "gpt-j-residual": true, "output-layer-parallelism": "column",
  "init_method": "small_init", "output_layer_init_method": "wang_init",
  # optimizer
  "optimizer": { "type": "Adam", "params": { "lr": 0.0006, "betas": [0.9, 0.95], "eps": 1.0e-8 } },
  "min_lr": 0.00006,
  "train_micro_batch_size_per_gpu": 32, "gradient_accumulation_steps": 1,
  "gradient_clipping": 1.0, "weight-decay": 0.1,
  "train-iters": 143000, "lr-decay-iters": 143000, "lr-decay-style": "cosine", "warmup": 0.01,
  "checkpoint-factor": 1000, "extra-save-iters": [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
}`,
    );
    const { model, training } = readNeoxConfigFile(path);
    expect(model).toEqual(pythiaPreset("pythia-160m"));
    expect(training).toEqual({
      steps: 143000,
      seqLength: 2048,
      microBatchSize: 32,
      batchSize: 32,
      lr: 0.0006,
      minLr: 0.00006,
      warmupFraction: 0.01,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      gradClip: 1,
      checkpointEvery: 1000,
      logSpacedUpTo: 512,
    });
  });

  it("the exported YAML reads back as the same run", () => {
    const config = parseTrainConfig({
      model: pythiaPreset("pythia-14m"),
      steps: 300,
      batchSize: 8,
      microBatchSize: 4,
      seqLength: 128,
      lr: 1e-3,
      checkpointEvery: 100,
      logSpacedUpTo: 512,
      seed: 7,
    });
    const path = yamlFile(
      "exported.yml",
      toNeoxTrainingYaml({
        config,
        dataPrefix: "/data/x_text_document",
        vocabFile: "/t.json",
        saveDir: "/ckpt",
      }),
    );
    const { model, training } = readNeoxConfigFile(path);
    expect(model).toEqual(config.model);
    expect(training).toEqual({
      steps: 300,
      seqLength: 128,
      microBatchSize: 4,
      batchSize: 8,
      lr: 1e-3,
      minLr: 1e-4,
      warmupFraction: 0.01,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      gradClip: 1,
      checkpointEvery: 100,
      // extra-save-iters holds the log-spaced steps below 300: 0, 1, 2, …, 64, 128, 256.
      logSpacedUpTo: 256,
      seed: 7,
    });
  });

  it("names the file and the key for values it cannot use", () => {
    expect(() =>
      readNeoxConfigFile(
        yamlFile(
          "bad-iters.yml",
          '{"num-layers": 2, "hidden-size": 32, "num-attention-heads": 4, "train-iters": "many"}',
        ),
      ),
    ).toThrow(/bad-iters\.yml: "train-iters" must be a number, got "many"/);
    expect(() =>
      readNeoxConfigFile(
        yamlFile(
          "sgd.yml",
          '{"num-layers": 2, "hidden-size": 32, "num-attention-heads": 4, "optimizer": {"type": "SGD"}}',
        ),
      ),
    ).toThrow(/sgd\.yml: optimizer type "SGD" is not supported/);
    expect(() => readNeoxConfigFile(join(dir, "missing.yml"))).toThrow(
      /cannot read the GPT-NeoX config .*missing\.yml \(ENOENT\)/,
    );
  });
});
