/**
 * Kernels the tfjs wasm backend lacks but training GPT-NeoX needs, written in plain JS over the wasm
 * heap. `UnsortedSegmentSum` is the gradient of `gather` (the embedding lookup): tensorflow/tfjs#8082.
 */
import * as tf from "@tensorflow/tfjs-core";

interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): WasmTensorInfo;
  typedArrayFromHeap(info: WasmTensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Registers the fallback kernels on the wasm backend (idempotent); returns their names. */
export function registerWasmFallbackKernels(): string[] {
  const registered: string[] = [];
  if (tf.getKernel("UnsortedSegmentSum", "wasm") === undefined) {
    tf.registerKernel({
      kernelName: "UnsortedSegmentSum",
      backendName: "wasm",
      kernelFunc: ({ inputs, backend, attrs }) => {
        const wasm = backend as unknown as WasmBackendLike;
        const x = inputs.x as unknown as WasmTensorInfo;
        const segmentIds = inputs.segmentIds as unknown as WasmTensorInfo;
        const numSegments = (attrs as { numSegments: number }).numSegments;
        const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
        const rows = x.shape[0] ?? 0;
        const out = wasm.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
        // Take every heap view after makeOutput: allocating can grow (and detach) the wasm memory.
        const outValues = wasm.typedArrayFromHeap(out);
        const xValues = wasm.typedArrayFromHeap(x);
        const ids = wasm.typedArrayFromHeap(segmentIds);
        outValues.fill(0);
        for (let r = 0; r < rows; r++) {
          const segment = ids[r] as number;
          if (segment < 0 || segment >= numSegments) {
            continue;
          }
          const from = r * inner;
          const to = segment * inner;
          for (let j = 0; j < inner; j++) {
            outValues[to + j] = (outValues[to + j] as number) + (xValues[from + j] as number);
          }
        }
        return out as unknown as tf.TensorInfo;
      },
    });
    registered.push("UnsortedSegmentSum");
  }
  return registered;
}
