import { GPTNeoXConfigSchema } from "@pythia/model";
import { z } from "zod";

/** A training run's hyper-parameters; descriptions are the documentation. Defaults are Pythia's. */
export const TrainConfigSchema = z
  .object({
    model: GPTNeoXConfigSchema.describe("the GPT-NeoX architecture (a preset or a converted config)"),
    steps: z.number().int().positive().describe("optimizer steps (train-iters; 143000 for Pythia)"),
    batchSize: z.number().int().positive().describe("sequences per optimizer step (1024 for Pythia)"),
    microBatchSize: z
      .number()
      .int()
      .positive()
      .describe("sequences per forward/backward; batchSize / microBatchSize = gradient accumulation steps"),
    seqLength: z
      .number()
      .int()
      .positive()
      .describe(
        "tokens per training sequence (2048 for Pythia); samples hold one more for the shifted label",
      ),
    lr: z.number().positive().describe("peak learning rate"),
    minLr: z
      .number()
      .nonnegative()
      .optional()
      .describe("learning-rate floor; default 0.1 × lr as in every Pythia config"),
    warmupFraction: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .describe("linear warmup as a fraction of the steps"),
    weightDecay: z
      .number()
      .nonnegative()
      .default(0.1)
      .describe("decoupled weight decay (not on biases or LayerNorms)"),
    beta1: z.number().min(0).lt(1).default(0.9).describe("Adam β1"),
    beta2: z.number().min(0).lt(1).default(0.95).describe("Adam β2"),
    eps: z.number().positive().default(1e-8).describe("Adam ε"),
    gradClip: z.number().positive().default(1).describe("global gradient-norm clip"),
    checkpointEvery: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe("linear checkpoint interval (checkpoint-factor)"),
    logSpacedUpTo: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe("largest log-spaced early checkpoint (512 for Pythia)"),
    seed: z.number().int().nonnegative().default(1234).describe("seed of the weight init and the data order"),
    evalEvery: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe("validate every N steps (0: only at the end)"),
    evalBatches: z.number().int().positive().default(4).describe("micro-batches per validation"),
  })
  .superRefine((config, context) => {
    if (config.batchSize % config.microBatchSize !== 0) {
      context.addIssue({
        code: "custom",
        path: ["microBatchSize"],
        message: `must divide batchSize ${config.batchSize} (gradient accumulation needs equal micro-batches)`,
      });
    }
    if (config.seqLength > config.model.maxPositionEmbeddings) {
      context.addIssue({
        code: "custom",
        path: ["seqLength"],
        message: `${config.seqLength} exceeds the model's maxPositionEmbeddings ${config.model.maxPositionEmbeddings}`,
      });
    }
  });

/** A resolved training configuration. */
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
/** Training configuration input (defaults may be left out). */
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
