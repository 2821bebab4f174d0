/**
 * Scores token rows with a `GPTNeoXModel`: the transformer body runs on every input token, but the
 * unembedding (`[C] × [V, C]ᵀ`, the bulk of a small model's cost) and the log-softmax over the full
 * padded vocabulary run only at the continuation positions. Same math as the harness: log-probs are
 * `logit − max − log Σ exp(logit − max)` in float32, summed per request; greedy = argmax at every
 * continuation position equals the continuation token.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { GPTNeoXModel, LayerCache } from "@pythia/model";
import { forward } from "@pythia/model";

/** One row to score: model input ids and which trailing positions predict the continuation. */
export interface ScoreRow {
  /** `(context + continuation)[-(maxLength + 1):][:-1]` (or the part after a shared prefix). */
  input: number[];
  /** The continuation token ids; the last `continuation.length` inputs predict them. */
  continuation: number[];
}

/** Per-request scores. */
export interface RowScore {
  /** Σ log p over the continuation tokens. */
  ll: number;
  isGreedy: boolean;
  tokenLogprobs: number[];
  greedyIds: number[];
}

/** What the scoring engine needs from a model. */
export interface LoglikelihoodModel {
  /** Context window (the harness's `max_length`, 2048 for Pythia). */
  readonly maxLength: number;
  /** Scores right-padded rows in one batch. */
  scoreRows(rows: readonly ScoreRow[]): Promise<RowScore[]>;
  /** Scores rows that all follow `prefix` (its keys and values are computed once). Optional. */
  scoreRowsAfterPrefix?(prefix: readonly number[], rows: readonly ScoreRow[]): Promise<RowScore[]>;
}

/** Rows of unembedding computed at a time (each is V floats). */
const UNEMBED_CHUNK = 256;

/** A `LoglikelihoodModel` over a loaded `GPTNeoXModel` (any tfjs backend). */
export class TfjsLoglikelihoodModel implements LoglikelihoodModel {
  readonly maxLength: number;
  private readonly model: GPTNeoXModel;
  private readonly bodyParams: Record<string, tf.Tensor>;
  /** The unembedding transposed once, `[C, V]`: wasm's matMul is several times slower with transposeB. */
  private readonly unembedT: tf.Tensor2D;
  private readonly vocabSize: number;
  private readonly dummyUnembed: tf.Tensor2D;

  constructor(params: { model: GPTNeoXModel; maxLength?: number }) {
    this.model = params.model;
    const config = params.model.config;
    this.maxLength = params.maxLength ?? config.maxPositionEmbeddings;
    const weights = params.model.params as Record<string, tf.Tensor>;
    const unembed = (
      config.tieWordEmbeddings ? weights["gpt_neox.embed_in.weight"] : weights["embed_out.weight"]
    ) as tf.Tensor2D; // [V, C]
    this.unembedT = tf.transpose(unembed); // [C, V]
    this.vocabSize = unembed.shape[0];
    // The body's own logits are computed against a one-row stand-in, so they cost nothing.
    this.dummyUnembed = tf.zeros([1, config.hiddenSize]) as tf.Tensor2D; // [1, C]
    this.bodyParams = { ...weights, "embed_out.weight": this.dummyUnembed };
  }

  /** Frees this scorer's own tensors (the model's weights stay the caller's). */
  dispose(): void {
    this.dummyUnembed.dispose();
    this.unembedT.dispose();
  }

  private body(ids: tf.Tensor2D, cache?: readonly LayerCache[], returnCache = false) {
    const config = { ...this.model.config, tieWordEmbeddings: false };
    const out = forward(this.bodyParams, config, ids, {
      outputHiddenStates: true,
      ...(cache === undefined ? {} : { cache }),
      returnCache,
    });
    const hidden = out.hiddenStates as tf.Tensor3D[];
    const final = hidden[hidden.length - 1] as tf.Tensor3D; // [B, T, C]
    for (const tensor of hidden.slice(0, -1)) {
      tensor.dispose();
    }
    out.logits.dispose();
    return { final, cache: out.cache };
  }

  async scoreRows(rows: readonly ScoreRow[]): Promise<RowScore[]> {
    return this.score(rows, undefined);
  }

  async scoreRowsAfterPrefix(prefix: readonly number[], rows: readonly ScoreRow[]): Promise<RowScore[]> {
    if (prefix.length === 0) {
      return this.score(rows, undefined);
    }
    const ids = tf.tensor2d([Array.from(prefix)], [1, prefix.length], "int32");
    const { final, cache } = this.body(ids, undefined, true);
    ids.dispose();
    final.dispose();
    const layers = cache as LayerCache[];
    const tiled = layers.map((layer) => ({
      key: tf.tile(layer.key, [rows.length, 1, 1, 1]) as tf.Tensor4D,
      value: tf.tile(layer.value, [rows.length, 1, 1, 1]) as tf.Tensor4D,
    }));
    for (const layer of layers) {
      layer.key.dispose();
      layer.value.dispose();
    }
    try {
      return await this.score(rows, tiled);
    } finally {
      for (const layer of tiled) {
        layer.key.dispose();
        layer.value.dispose();
      }
    }
  }

  private async score(
    rows: readonly ScoreRow[],
    cache: readonly LayerCache[] | undefined,
  ): Promise<RowScore[]> {
    const T = Math.max(...rows.map((row) => row.input.length));
    const padded = rows.map((row) => [...row.input, ...new Array<number>(T - row.input.length).fill(0)]);
    const ids = tf.tensor2d(padded, [rows.length, T], "int32");
    const { final } = this.body(ids, cache, false);
    ids.dispose();
    const C = final.shape[2];
    const V = this.vocabSize;
    // Flat positions (b·T + t) of the continuation predictions, and their targets.
    const positions: number[] = [];
    const targets: number[] = [];
    for (const [b, row] of rows.entries()) {
      const start = row.input.length - row.continuation.length;
      row.continuation.forEach((token, j) => {
        positions.push(b * T + start + j);
        targets.push(token);
      });
    }
    const flat = tf.reshape(final, [rows.length * T, C]) as tf.Tensor2D; // [B*T, C]
    final.dispose();
    const logprobs = new Float32Array(positions.length);
    const greedy = new Int32Array(positions.length);
    for (let start = 0; start < positions.length; start += UNEMBED_CHUNK) {
      const end = Math.min(start + UNEMBED_CHUNK, positions.length);
      const [lp, am] = tf.tidy(() => {
        const index = tf.tensor1d(positions.slice(start, end), "int32");
        const h = tf.gather(flat, index); // [n, C]
        const logits = tf.matMul(h, this.unembedT); // [n, V]
        const max = tf.max(logits, 1, true); // [n, 1]
        const shifted = tf.sub(logits, max); // [n, V]
        const logSumExp = tf.log(tf.sum(tf.exp(shifted), 1)); // [n]
        const n = end - start;
        const flatTargets = tf.add(
          tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(V, "int32")),
          tf.tensor1d(targets.slice(start, end), "int32"),
        ); // [n]
        const picked = tf.gather(tf.reshape(shifted, [n * V]), flatTargets); // [n]
        return [tf.sub(picked, logSumExp), tf.argMax(logits, 1)];
      }) as [tf.Tensor1D, tf.Tensor1D];
      logprobs.set((await lp.data()) as Float32Array, start);
      greedy.set((await am.data()) as Int32Array, start);
      lp.dispose();
      am.dispose();
    }
    flat.dispose();
    let offset = 0;
    return rows.map((row) => {
      const n = row.continuation.length;
      const tokenLogprobs = Array.from(logprobs.subarray(offset, offset + n));
      const greedyIds = Array.from(greedy.subarray(offset, offset + n));
      offset += n;
      let ll = 0;
      for (const value of tokenLogprobs) {
        ll = Math.fround(ll + value); // a float32 sum, as torch sums float32 log-probs
      }
      return {
        ll,
        isGreedy: greedyIds.every((id, j) => id === row.continuation[j]),
        tokenLogprobs,
        greedyIds,
      };
    });
  }
}
