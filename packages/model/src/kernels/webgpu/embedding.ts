/**
 * The embedding lookup on WebGPU with a deterministic gradient. tfjs' `UnsortedSegmentSum` on WebGPU
 * adds rows with float atomics, whose order (and so the rounding) changes from run to run; here the
 * positions of each token are put in order on the host (the ids come from the data loader, so they are
 * still in host memory) and one thread per `[V, C]` element adds its token's rows in position order.
 * Symbols: B batch, T tokens, N = B·T, V vocabulary, C hidden size, U distinct tokens.
 */
import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "../custom-op.js";
import { groups, hostResidentValues, runProgram, type WgslProgram } from "./program.js";

/** Positions grouped by token: `order` (positions, ascending within a token), `starts` `[U+1]`, `rowOf` `[V]`. */
export function groupPositions(
  ids: ArrayLike<number>,
  V: number,
): { order: Int32Array; starts: Int32Array; rowOf: Int32Array } {
  const counts = new Int32Array(V);
  for (let n = 0; n < ids.length; n++) {
    const v = ids[n] as number;
    counts[v] = (counts[v] as number) + 1;
  }
  const rowOf = new Int32Array(V).fill(-1);
  const startOfToken = new Int32Array(V);
  const starts: number[] = [0];
  let offset = 0;
  for (let v = 0; v < V; v++) {
    const count = counts[v] as number;
    if (count > 0) {
      rowOf[v] = starts.length - 1;
      startOfToken[v] = offset;
      offset += count;
      starts.push(offset);
    }
  }
  const order = new Int32Array(ids.length);
  for (let n = 0; n < ids.length; n++) {
    const v = ids[n] as number;
    const slot = startOfToken[v] as number;
    order[slot] = n;
    startOfToken[v] = slot + 1;
  }
  return { order, starts: Int32Array.from(starts), rowOf };
}

function gradientProgram(V: number, C: number): WgslProgram {
  return {
    variableNames: ["Dy", "Order", "Starts", "RowOf"],
    outputShape: [V * C],
    shaderKey: "pythiaEmbeddingGradient",
    dispatchLayout: { x: [0] },
    dispatch: [groups(V * C, 256), 1, 1],
    workgroupSize: [256, 1, 1],
    size: true,
    uniforms: "C : i32,",
    getUserCode: () => `
      fn main(index: i32) {
        if (index >= uniforms.size) { return; }
        let v = index / uniforms.C;
        let c = index - v * uniforms.C;
        let u = RowOf[v];
        var sum = 0.0;
        if (u >= 0) {
          for (var k = Starts[u]; k < Starts[u + 1]; k = k + 1) { sum = sum + Dy[Order[k] * uniforms.C + c]; }
        }
        result[index] = sum;
      }`,
  };
}

/** Rows of the embedding table `[V, C]` for `ids` `[B, T]`: `[B, T, C]`. */
export function embed(table: tf.Tensor, ids: tf.Tensor2D): tf.Tensor3D {
  const [V, C] = table.shape as [number, number];
  const hostIds = hostResidentValues(ids);
  const grouped = hostIds === null ? null : groupPositions(hostIds, V);
  const op = customOp<tf.Tensor3D>((w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([ids]);
    return {
      value: tf.gather(w, ids) as unknown as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, [saved]: tf.Tensor[]) =>
        tf.tidy(() => {
          const rows = tf.reshape(dy, [-1, C]);
          if (grouped === null) {
            // Ids made on the GPU (never the case in training): tfjs' kernel, not bit-reproducible.
            return tf.unsortedSegmentSum(rows, tf.reshape(saved as tf.Tensor, [-1]) as tf.Tensor1D, V);
          }
          const grad = runProgram(
            gradientProgram(V, C),
            [
              rows,
              tf.tensor1d(grouped.order, "int32"),
              tf.tensor1d(grouped.starts, "int32"),
              tf.tensor1d(grouped.rowOf, "int32"),
            ],
            "float32",
            [{ type: "int32", data: [C] }],
          );
          return tf.reshape(grad, [V, C]);
        }),
    };
  });
  return op(table);
}
