/** Wire formats of model configurations; `config-convert.ts` maps them to `GPTNeoXConfig`. */

/** Hugging Face `config.json` of a `GPTNeoXForCausalLM` (the fields we read and write). */
export interface HfGPTNeoXConfigFormat {
  architectures?: string[];
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  rotary_pct?: number;
  rotary_emb_base?: number;
  /** Newer transformers spelling of `rotary_emb_base`. */
  rope_theta?: number;
  rope_scaling?: unknown;
  max_position_embeddings?: number;
  layer_norm_eps?: number;
  use_parallel_residual?: boolean;
  hidden_act?: string;
  tie_word_embeddings?: boolean;
  initializer_range?: number;
  attention_bias?: boolean;
  attention_dropout?: number;
  hidden_dropout?: number;
  bos_token_id?: number;
  eos_token_id?: number;
  torch_dtype?: string;
  use_cache?: boolean;
}

/** The model keys of a GPT-NeoX YAML config (`models/160M/pythia-160m.yml`), hyphenated as there. */
export interface NeoxYamlFormat {
  "num-layers": number;
  "hidden-size": number;
  "num-attention-heads": number;
  "seq-length"?: number;
  "max-position-embeddings"?: number;
  "pos-emb"?: string;
  "rotary-pct"?: number;
  "rotary-emb-base"?: number;
  "no-weight-tying"?: boolean;
  "gpt-j-residual"?: boolean;
  "layernorm-epsilon"?: number;
  norm?: string;
  activation?: string;
  "bias-gelu-fusion"?: boolean;
  init_method?: string;
  output_layer_init_method?: string;
  "init-method-std"?: number;
  "make-vocab-size-divisible-by"?: number;
  "model-parallel-size"?: number;
  [key: string]: unknown;
}
