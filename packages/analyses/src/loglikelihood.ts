import type { GPTNeoXModel } from "@pythia/model";
import * as tf from "@tensorflow/tfjs-core";

/**
 * Σ log p(continuation | context) under `model` (one forward pass; the input is truncated from the
 * left to the model's positions, as the harness does). Used for CrowS-Pairs with an EOT-only context.
 */
export async function sequenceLoglikelihood(
  model: GPTNeoXModel,
  context: readonly number[],
  continuation: readonly number[],
): Promise<number> {
  const all = [...context, ...continuation];
  const maxLength = model.config.maxPositionEmbeddings + 1;
  const ids = all.length > maxLength ? all.slice(all.length - maxLength) : all;
  const input = ids.slice(0, -1);
  const n = continuation.length;
  const logProbs = tf.tidy(() => {
    const { logits } = model.forward([input]);
    const T = input.length;
    const last = tf.slice(logits, [0, T - n, 0], [1, n, -1]); // [1, n, V]
    const logSoftmax = tf.logSoftmax(tf.reshape(last, [n, -1])); // [n, V]
    const targets = tf.tensor1d(ids.slice(-n), "int32");
    const V = logSoftmax.shape[1] as number;
    const flat = tf.add(tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(V, "int32")), targets);
    return tf.gather(tf.reshape(logSoftmax, [-1]), flat); // [n]
  });
  const values = (await logProbs.data()) as Float32Array;
  logProbs.dispose();
  return values.reduce((a, b) => a + b, 0);
}
