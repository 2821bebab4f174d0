/**
 * The training keys of a GPT-NeoX YAML config, spelled as in Pythia's `models/<size>/pythia-<size>.yml`.
 * GPT-NeoX treats `-` and `_` in key names alike; Pythia's files mix both (`train-iters`, `min_lr`,
 * `train_micro_batch_size_per_gpu`). The model keys are `@pythia/model`'s `NeoxYamlFormat`.
 */
export interface NeoxTrainingFormat {
  "train-iters"?: number;
  "lr-decay-iters"?: number;
  "lr-decay-style"?: string;
  /** Warmup as a fraction of the decay iterations. */
  warmup?: number;
  optimizer?: { type?: string; params?: { lr?: number; betas?: number[]; eps?: number } };
  min_lr?: number;
  "weight-decay"?: number;
  gradient_clipping?: number;
  "seq-length"?: number;
  "train-micro-batch-size-per-gpu"?: number;
  gradient_accumulation_steps?: number;
  train_batch_size?: number;
  "checkpoint-factor"?: number;
  "extra-save-iters"?: number[];
  "eval-interval"?: number;
  "eval-iters"?: number;
  seed?: number;
  "train-data-paths"?: string[];
  "valid-data-paths"?: string[];
  "test-data-paths"?: string[];
  "data-path"?: string;
  "data-impl"?: string;
  "tokenizer-type"?: string;
  "vocab-file"?: string;
  save?: string;
  load?: string;
  [key: string]: unknown;
}
