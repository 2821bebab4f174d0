import type { GPTNeoXConfig } from "./config.js";

/** One parameter of `GPTNeoXForCausalLM`: HF name, shape, and how GPT-NeoX initialises it. */
export interface ParameterSpec {
  name: string;
  shape: number[];
  /** `weight`: init_method; `output`: output_layer_init_method; `zeros`/`ones`: biases and LayerNorms. */
  init: "weight" | "output" | "zeros" | "ones";
  /** AdamW weight decay applies (GPT-NeoX: not to biases and LayerNorm parameters). */
  decay: boolean;
}

/** Every parameter in HF state-dict order, with shapes `[out, in]` for linear weights. */
export function parameterSpecs(config: GPTNeoXConfig): ParameterSpec[] {
  const C = config.hiddenSize;
  const I = config.intermediateSize;
  const V = config.vocabSize;
  const specs: ParameterSpec[] = [
    { name: "gpt_neox.embed_in.weight", shape: [V, C], init: "weight", decay: true },
  ];
  const norm = (name: string): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [C], init: "ones", decay: false },
    { name: `${name}.bias`, shape: [C], init: "zeros", decay: false },
  ];
  const linear = (name: string, out: number, input: number, init: "weight" | "output"): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [out, input], init, decay: true },
    { name: `${name}.bias`, shape: [out], init: "zeros", decay: false },
  ];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const prefix = `gpt_neox.layers.${layer}`;
    specs.push(
      ...norm(`${prefix}.input_layernorm`),
      ...norm(`${prefix}.post_attention_layernorm`),
      ...linear(`${prefix}.attention.query_key_value`, 3 * C, C, "weight"),
      ...linear(`${prefix}.attention.dense`, C, C, "output"),
      ...linear(`${prefix}.mlp.dense_h_to_4h`, I, C, "weight"),
      ...linear(`${prefix}.mlp.dense_4h_to_h`, C, I, "output"),
    );
  }
  specs.push(...norm("gpt_neox.final_layer_norm"));
  if (!config.tieWordEmbeddings) {
    specs.push({ name: "embed_out.weight", shape: [V, C], init: "weight", decay: true });
  }
  return specs;
}

/** Buffers that old Pythia checkpoints carry and loaders ignore (not parameters). */
export const LEGACY_BUFFER_PATTERN = /\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/;
