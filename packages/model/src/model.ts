import * as tf from "@tensorflow/tfjs-core";
import type { GPTNeoXConfig } from "./config.js";
import { forward, nextTokenLoss, type ForwardOptions, type ForwardOutput } from "./gpt-neox.js";
import { fillNormal, initStd } from "./init.js";
import { ModelError } from "./model-errors.js";
import { parameterSpecs, type ParameterSpec } from "./parameter-names.js";
import { weightMismatchError, weightProblems } from "./check-weight-headers.js";
import { RandomNormal } from "./random-normal.js";

/** A float32 tensor outside tfjs: what checkpoints hold. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

let nextModelId = 0;

/**
 * A GPT-NeoX model: its configuration and one `tf.Variable` per HF parameter name. The math lives in
 * `gpt-neox.ts`; this class owns the variables (call `dispose()`), loads and exports host tensors, and
 * initialises weights like GPT-NeoX.
 */
export class GPTNeoXModel {
  readonly config: GPTNeoXConfig;
  /** Variables by HF name, in `parameterSpecs` order. */
  readonly params: Readonly<Record<string, tf.Variable>>;
  /** The specs (names, shapes, decay groups) in state-dict order. */
  readonly specs: readonly ParameterSpec[];

  private constructor(config: GPTNeoXConfig, params: Record<string, tf.Variable>, specs: ParameterSpec[]) {
    this.config = config;
    this.params = params;
    this.specs = specs;
  }

  /**
   * Builds a model from host tensors named like the HF state dict. Legacy buffers of old Pythia
   * checkpoints (`attention.bias`, `attention.masked_bias`, `rotary_emb.inv_freq`) are ignored.
   * @throws ModelError (`CHECKPOINT_FORMAT`) listing missing, unexpected or mis-shaped tensors.
   */
  static fromTensors(params: {
    config: GPTNeoXConfig;
    /** Float32 tensors (what `readSafetensors` returns with its default `toFloat32`). */
    tensors: ReadonlyMap<string, { shape: number[]; data: unknown }>;
    source?: string;
    trainable?: boolean;
  }): GPTNeoXModel {
    const source = params.source ?? "<tensors>";
    const specs = parameterSpecs(params.config);
    const problems = weightProblems({
      config: params.config,
      tensors: params.tensors,
      dtypeProblem: (name, tensor) =>
        tensor.data instanceof Float32Array ? null : `${name} is not a float tensor`,
    });
    if (problems.length > 0) {
      throw weightMismatchError(source, problems);
    }
    const id = nextModelId++;
    const variables: Record<string, tf.Variable> = {};
    try {
      for (const spec of specs) {
        const tensor = params.tensors.get(spec.name) as HostTensor;
        const initial = tf.tensor(tensor.data, spec.shape, "float32");
        try {
          variables[spec.name] = tf.variable(initial, params.trainable ?? true, `m${id}/${spec.name}`);
        } finally {
          initial.dispose(); // the variable shares its data; without this the weights outlive dispose()
        }
      }
    } catch (error) {
      tf.dispose(Object.values(variables));
      throw error;
    }
    return new GPTNeoXModel(params.config, variables, specs);
  }

  /**
   * A freshly initialised model, as GPT-NeoX initialises it: `initMethod` for embeddings, QKV,
   * dense_h_to_4h and embed_out, `outputLayerInitMethod` for attention.dense and dense_4h_to_h, zero
   * biases, unit LayerNorms. The same seed gives the same weights everywhere.
   */
  static initialize(params: { config: GPTNeoXConfig; seed?: number }): GPTNeoXModel {
    const { config } = params;
    const random = new RandomNormal(params.seed ?? 1234);
    const tensors = new Map<string, HostTensor>();
    for (const spec of parameterSpecs(config)) {
      const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
      if (spec.init === "ones") {
        data.fill(1);
      } else if (spec.init === "weight" || spec.init === "output") {
        const method = spec.init === "weight" ? config.initMethod : config.outputLayerInitMethod;
        fillNormal(data, initStd(method, config), random);
      }
      tensors.set(spec.name, { shape: spec.shape, data });
    }
    return GPTNeoXModel.fromTensors({ config, tensors, source: "initialize" });
  }

  /** Logits (and optionally hidden states and a KV cache) for `inputIds` `[B, T]`; see `forward`. */
  forward(inputIds: tf.Tensor2D | number[][], options: ForwardOptions = {}): ForwardOutput {
    const ids = Array.isArray(inputIds) ? toIds(inputIds, this.config.vocabSize) : inputIds;
    try {
      return forward(this.params, this.config, ids, options);
    } finally {
      if (ids !== inputIds) {
        ids.dispose();
      }
    }
  }

  /** HF's mean next-token loss of `inputIds` (labels default to the inputs; −100 is ignored). */
  loss(
    inputIds: tf.Tensor2D | number[][],
    labels?: tf.Tensor2D | number[][],
  ): { loss: tf.Scalar; tokenLosses: tf.Tensor2D } {
    const ids = Array.isArray(inputIds) ? toIds(inputIds, this.config.vocabSize) : inputIds;
    const target =
      labels === undefined ? ids : Array.isArray(labels) ? tf.tensor2d(labels, undefined, "int32") : labels;
    try {
      return tf.tidy(() => nextTokenLoss(forward(this.params, this.config, ids).logits, target));
    } finally {
      for (const owned of [ids, target]) {
        if (owned !== inputIds && owned !== labels && !owned.isDisposed) {
          owned.dispose();
        }
      }
    }
  }

  /** Copies every parameter to host memory as F32 tensor entries (what `writeSafetensors` takes). */
  async toTensors(): Promise<Map<string, HostTensor & { dtype: "F32" }>> {
    const out = new Map<string, HostTensor & { dtype: "F32" }>();
    for (const spec of this.specs) {
      const variable = this.params[spec.name] as tf.Variable;
      out.set(spec.name, {
        dtype: "F32",
        shape: [...variable.shape],
        data: (await variable.data()) as Float32Array,
      });
    }
    return out;
  }

  /** Frees every variable. */
  dispose(): void {
    for (const variable of Object.values(this.params)) {
      variable.dispose();
    }
  }
}

/** `[B, T]` ids as an int32 tensor, checking the rows are equal length and the ids inside the vocabulary. */
function toIds(rows: number[][], vocabSize: number): tf.Tensor2D {
  const T = rows[0]?.length ?? 0;
  rows.forEach((row, b) => {
    if (row.length !== T) {
      throw new ModelError(
        "MODEL_INPUT",
        `input_ids row ${b} has ${row.length} tokens but row 0 has ${T}; pad the batch to equal lengths`,
      );
    }
    row.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new ModelError(
          "MODEL_INPUT",
          `input_ids[${b}][${t}] = ${id} is outside the vocabulary [0, ${vocabSize})`,
        );
      }
    });
  });
  if (T === 0) {
    throw new ModelError("MODEL_INPUT", "input_ids is empty; give at least one token per row");
  }
  return tf.tensor2d(rows, [rows.length, T], "int32");
}
