import { z } from "zod";
import { ModelError } from "./model-errors.js";

/** Weight initialisation methods of GPT-NeoX (`megatron/model/init_functions.py`). */
export const INIT_METHODS = ["normal", "scaled_normal", "small_init", "wang_init"] as const;

/** The GPT-NeoX / Pythia architecture. Field docs are the schema's descriptions. */
export const GPTNeoXConfigSchema = z.object({
  vocabSize: z
    .number()
    .int()
    .positive()
    .describe("embedding rows (the padded vocabulary: 50304 for most Pythia sizes)"),
  hiddenSize: z.number().int().positive().describe("model width d"),
  numLayers: z.number().int().positive().describe("transformer layers L"),
  numHeads: z.number().int().positive().describe("attention heads; head size = hiddenSize / numHeads"),
  intermediateSize: z.number().int().positive().describe("MLP width (4·d in Pythia)"),
  rotaryPct: z
    .number()
    .gt(0)
    .lte(1)
    .default(0.25)
    .describe("fraction of each head's dims that get rotary embeddings"),
  rotaryEmbBase: z.number().positive().default(10000).describe("rotary base θ"),
  maxPositionEmbeddings: z
    .number()
    .int()
    .positive()
    .default(2048)
    .describe("longest sequence (2048 for Pythia)"),
  layerNormEps: z.number().positive().default(1e-5).describe("LayerNorm epsilon"),
  useParallelResidual: z
    .boolean()
    .default(true)
    .describe("x + attn(ln1(x)) + mlp(ln2(x)) (GPT-J style, Pythia) instead of sequential"),
  gelu: z
    .enum(["erf", "tanh"])
    .default("erf")
    .describe('"erf": exact GELU as HF computes it; "tanh": the approximation GPT-NeoX trained with'),
  tieWordEmbeddings: z.boolean().default(false).describe("share embed_in and embed_out (false for Pythia)"),
  initializerRange: z
    .number()
    .positive()
    .default(0.02)
    .describe("std of the `normal` init (HF initializer_range)"),
  initMethod: z
    .enum(INIT_METHODS)
    .default("small_init")
    .describe("init of every weight but the output layers"),
  outputLayerInitMethod: z
    .enum(INIT_METHODS)
    .default("wang_init")
    .describe("init of attention.dense and mlp.dense_4h_to_h"),
  bosTokenId: z.number().int().nonnegative().default(0).describe("<|endoftext|>"),
  eosTokenId: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe("<|endoftext|>, also Pythia's end-of-document"),
});

/** A resolved GPT-NeoX configuration. */
export type GPTNeoXConfig = z.infer<typeof GPTNeoXConfigSchema>;
/** Configuration input: fields with defaults may be left out. */
export type GPTNeoXConfigInput = z.input<typeof GPTNeoXConfigSchema>;

/**
 * Validates a configuration and fills in defaults.
 * @throws ModelError (`CONFIG_FORMAT`) naming every invalid field and the source.
 */
export function parseConfig(input: unknown, source = "<config>"): GPTNeoXConfig {
  const result = GPTNeoXConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new ModelError("CONFIG_FORMAT", `${source}: invalid configuration: ${problems}`);
  }
  const config = result.data;
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${source}: hiddenSize ${config.hiddenSize} is not divisible by numHeads ${config.numHeads}`,
    );
  }
  const rotary = rotaryDims(config);
  if (rotary % 2 !== 0) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${source}: rotary dims int(headSize · rotaryPct) = ${rotary} must be even`,
    );
  }
  return config;
}

/** Head size `hiddenSize / numHeads`. */
export function headSize(config: GPTNeoXConfig): number {
  return config.hiddenSize / config.numHeads;
}

/** Rotary dims per head: `int(headSize · rotaryPct)`, as HF and GPT-NeoX compute it. */
export function rotaryDims(config: GPTNeoXConfig): number {
  return Math.floor(headSize(config) * config.rotaryPct);
}

/** Parameter count: 2·V·d (untied) or V·d (tied) embeddings, 12d²+13d per layer, 2d final LayerNorm. */
export function parameterCount(config: GPTNeoXConfig): { total: number; nonEmbedding: number } {
  const d = config.hiddenSize;
  const i = config.intermediateSize;
  // QKV 3d²+3d, attention dense d²+d, MLP 2·d·i + i + d, two LayerNorms 4d.
  const perLayer = 3 * d * d + 3 * d + d * d + d + 2 * d * i + i + d + 4 * d;
  const nonEmbedding = config.numLayers * perLayer + 2 * d;
  const embeddings = (config.tieWordEmbeddings ? 1 : 2) * config.vocabSize * d;
  return { total: nonEmbedding + embeddings, nonEmbedding };
}

function pythia(
  layers: number,
  hidden: number,
  heads: number,
  vocab = 50304,
  neoxDefaultInit = false,
): GPTNeoXConfig {
  return parseConfig({
    vocabSize: vocab,
    hiddenSize: hidden,
    numLayers: layers,
    numHeads: heads,
    intermediateSize: 4 * hidden,
    ...(neoxDefaultInit ? { initMethod: "normal", outputLayerInitMethod: "scaled_normal" } : {}),
  });
}

/**
 * Every Pythia size (the deduped models share the shapes). 6.9B and 12B did not set an init method in
 * their YAML, so GPT-NeoX's defaults (normal / scaled_normal) apply (Pythia README "Erata").
 */
export const PYTHIA_PRESETS: Readonly<Record<string, GPTNeoXConfig>> = {
  "pythia-14m": pythia(6, 128, 4),
  "pythia-31m": pythia(6, 256, 8),
  "pythia-70m": pythia(6, 512, 8),
  "pythia-160m": pythia(12, 768, 12),
  "pythia-410m": pythia(24, 1024, 16),
  "pythia-1b": pythia(16, 2048, 8),
  "pythia-1.4b": pythia(24, 2048, 16),
  "pythia-2.8b": pythia(32, 2560, 32),
  "pythia-6.9b": pythia(32, 4096, 32, 50432, true),
  "pythia-12b": pythia(36, 5120, 40, 50688, true),
};

/** A preset by name (`pythia-160m`, also `160m` or `pythia-160m-deduped`). */
export function pythiaPreset(name: string): GPTNeoXConfig {
  const key = `pythia-${name
    .replace(/^pythia-/, "")
    .replace(/-deduped$/, "")
    .replace(/-v0$/, "")
    .toLowerCase()}`;
  const preset = PYTHIA_PRESETS[key];
  if (preset === undefined) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `unknown preset "${name}"; choose one of ${Object.keys(PYTHIA_PRESETS).join(", ")}`,
    );
  }
  return preset;
}
