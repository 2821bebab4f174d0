import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { parseConfig, type GPTNeoXConfig } from "./config.js";
import type { HfGPTNeoXConfigFormat, NeoxYamlFormat } from "./config-format.js";
import { ModelError } from "./model-errors.js";

const TANH_GELUS = new Set(["gelu_new", "gelu_pytorch_tanh", "gelu_fast"]);

/**
 * Reads a Hugging Face `config.json` object (`model_type: "gpt_neox"`).
 * @throws ModelError (`CONFIG_FORMAT`) naming the source and field for other models or unsupported options.
 */
export function fromHfConfig(json: unknown, source = "config.json"): GPTNeoXConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelError("CONFIG_FORMAT", `${source}: expected a JSON object`);
  }
  const hf = json as HfGPTNeoXConfigFormat;
  if (hf.model_type !== "gpt_neox") {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${source}: model_type is ${JSON.stringify(hf.model_type)}; only "gpt_neox" (GPTNeoXForCausalLM, Pythia) is supported`,
    );
  }
  if (hf.rope_scaling !== undefined && hf.rope_scaling !== null) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${source}: rope_scaling is not supported (remove it or use transformers)`,
    );
  }
  if (hf.attention_bias === false) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${source}: attention_bias false is not supported (Pythia uses biases)`,
    );
  }
  const act = hf.hidden_act ?? "gelu";
  if (act !== "gelu" && !TANH_GELUS.has(act)) {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${source}: hidden_act "${act}" is not supported (use gelu or gelu_new)`,
    );
  }
  return parseConfig(
    {
      vocabSize: hf.vocab_size,
      hiddenSize: hf.hidden_size,
      numLayers: hf.num_hidden_layers,
      numHeads: hf.num_attention_heads,
      intermediateSize: hf.intermediate_size,
      rotaryPct: hf.rotary_pct,
      rotaryEmbBase: hf.rotary_emb_base ?? hf.rope_theta,
      maxPositionEmbeddings: hf.max_position_embeddings,
      layerNormEps: hf.layer_norm_eps,
      useParallelResidual: hf.use_parallel_residual,
      gelu: act === "gelu" ? "erf" : "tanh",
      tieWordEmbeddings: hf.tie_word_embeddings,
      initializerRange: hf.initializer_range,
      bosTokenId: hf.bos_token_id,
      eosTokenId: hf.eos_token_id,
    },
    source,
  );
}

/** The Hugging Face `config.json` object for a configuration (keys sorted, as `save_pretrained` writes them). */
export function toHfConfig(
  config: GPTNeoXConfig,
  options: { torchDtype?: "float32" | "float16" | "bfloat16" } = {},
): HfGPTNeoXConfigFormat {
  const hf: HfGPTNeoXConfigFormat = {
    architectures: ["GPTNeoXForCausalLM"],
    attention_bias: true,
    attention_dropout: 0,
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    hidden_act: config.gelu === "erf" ? "gelu" : "gelu_new",
    hidden_dropout: 0,
    hidden_size: config.hiddenSize,
    initializer_range: config.initializerRange,
    intermediate_size: config.intermediateSize,
    layer_norm_eps: config.layerNormEps,
    max_position_embeddings: config.maxPositionEmbeddings,
    model_type: "gpt_neox",
    num_attention_heads: config.numHeads,
    num_hidden_layers: config.numLayers,
    rotary_emb_base: config.rotaryEmbBase,
    rotary_pct: config.rotaryPct,
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: options.torchDtype ?? "float32",
    use_cache: true,
    use_parallel_residual: config.useParallelResidual,
    vocab_size: config.vocabSize,
  };
  return hf;
}

/** Parameters of `fromNeoxYaml`. */
export interface FromNeoxYamlParams {
  /** The YAML text (Pythia's `.yml` files parse as YAML) or an already parsed object. */
  yaml: string | Record<string, unknown>;
  /** Tokenizer size, padded like GPT-NeoX. @default 50277 (GPT-NeoX-20B) */
  tokenizerVocabSize?: number;
  source?: string;
}

/**
 * Reads the model part of a GPT-NeoX YAML config. The vocabulary is padded as GPT-NeoX does:
 * `tokenizerVocabSize` rounded up to `make-vocab-size-divisible-by (128) × model-parallel-size`.
 * GPT-NeoX trains with `bias-gelu-fusion`, i.e. the tanh GELU; HF's conversion says exact GELU, so
 * `gelu` is "tanh" only when the YAML asks for the fused kernel.
 */
export function fromNeoxYaml(params: FromNeoxYamlParams): GPTNeoXConfig {
  const source = params.source ?? "<neox yaml>";
  let neox: NeoxYamlFormat;
  try {
    neox = (typeof params.yaml === "string" ? parseYaml(params.yaml) : params.yaml) as NeoxYamlFormat;
  } catch (error) {
    throw new ModelError("CONFIG_FORMAT", `${source}: not valid YAML (${(error as Error).message})`);
  }
  if (typeof neox !== "object" || neox === null) {
    throw new ModelError("CONFIG_FORMAT", `${source}: expected a mapping of GPT-NeoX arguments`);
  }
  if (neox["pos-emb"] !== undefined && neox["pos-emb"] !== "rotary") {
    throw new ModelError(
      "CONFIG_FORMAT",
      `${source}: pos-emb "${neox["pos-emb"]}" is not supported (only rotary)`,
    );
  }
  if (neox.norm !== undefined && neox.norm !== "layernorm") {
    throw new ModelError("CONFIG_FORMAT", `${source}: norm "${neox.norm}" is not supported (only layernorm)`);
  }
  const multiple = (neox["make-vocab-size-divisible-by"] ?? 128) * (neox["model-parallel-size"] ?? 1);
  const vocab = params.tokenizerVocabSize ?? 50277;
  return parseConfig(
    {
      vocabSize: Math.ceil(vocab / multiple) * multiple,
      hiddenSize: neox["hidden-size"],
      numLayers: neox["num-layers"],
      numHeads: neox["num-attention-heads"],
      intermediateSize: 4 * neox["hidden-size"],
      rotaryPct: neox["rotary-pct"],
      rotaryEmbBase: neox["rotary-emb-base"],
      maxPositionEmbeddings: neox["max-position-embeddings"] ?? neox["seq-length"],
      layerNormEps: neox["layernorm-epsilon"],
      useParallelResidual: neox["gpt-j-residual"] ?? false,
      gelu: neox["bias-gelu-fusion"] ? "tanh" : "erf",
      tieWordEmbeddings: !(neox["no-weight-tying"] ?? false),
      initializerRange: neox["init-method-std"],
      initMethod: neox.init_method ?? "normal",
      outputLayerInitMethod: neox.output_layer_init_method ?? "scaled_normal",
    },
    source,
  );
}

/** The model keys of a GPT-NeoX YAML config for a configuration (vocabulary padding is implied, not stored). */
export function toNeoxYaml(config: GPTNeoXConfig): string {
  const neox: NeoxYamlFormat = {
    "num-layers": config.numLayers,
    "hidden-size": config.hiddenSize,
    "num-attention-heads": config.numHeads,
    "seq-length": config.maxPositionEmbeddings,
    "max-position-embeddings": config.maxPositionEmbeddings,
    "pos-emb": "rotary",
    "rotary-pct": config.rotaryPct,
    "rotary-emb-base": config.rotaryEmbBase,
    "no-weight-tying": !config.tieWordEmbeddings,
    "gpt-j-residual": config.useParallelResidual,
    norm: "layernorm",
    "layernorm-epsilon": config.layerNormEps,
    "bias-gelu-fusion": config.gelu === "tanh",
    init_method: config.initMethod,
    output_layer_init_method: config.outputLayerInitMethod,
    "init-method-std": config.initializerRange,
  };
  return stringifyYaml(neox);
}
