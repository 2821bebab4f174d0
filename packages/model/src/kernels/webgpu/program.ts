/**
 * Running our own WGSL programs on tfjs' WebGPU backend. tfjs writes the shader's prologue: one
 * `result` storage buffer (the output), one read-only buffer per name in `variableNames`, and a
 * `uniforms` struct with the shapes plus the fields listed in `uniforms`; `getUserCode` supplies `main`.
 * Internal tfjs 4.22 API (WebGPUBackend.runWebGPUProgram), pinned by the peer range.
 */
import * as tf from "@tensorflow/tfjs-core";

/** The parts of tfjs' `WebGPUProgram` our kernels set. */
export interface WgslProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** `name : type,` fields appended to the uniforms struct, in the order of `run`'s `uniforms`. */
  uniforms?: string;
  /** Adds `uniforms.size` (the output's element count) for flat programs. */
  size?: boolean;
  getUserCode: () => string;
}

/** A uniform value, in the order the program's `uniforms` string declares them. */
export interface UniformValue {
  type: "int32" | "float32";
  data: number[];
}

interface WebGPUBackendLike {
  runWebGPUProgram(
    program: WgslProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: UniformValue[],
  ): tf.TensorInfo;
  device: { limits: { maxComputeWorkgroupStorageSize: number } };
  tensorMap: { get(dataId: object): { values: unknown } | undefined };
}

/** The active backend as tfjs' WebGPU backend (throws on any other). */
export function webgpuBackend(): WebGPUBackendLike {
  if (tf.getBackend() !== "webgpu") {
    throw new Error(`WGSL kernels need the webgpu backend, not ${tf.getBackend()}`);
  }
  return tf.backend() as unknown as WebGPUBackendLike;
}

/** Runs `program` on `inputs` and returns its output as a tensor owned by the current scope. */
export function runProgram(
  program: WgslProgram,
  inputs: tf.Tensor[],
  dtype: tf.DataType,
  uniforms: UniformValue[] = [],
): tf.Tensor {
  const info = webgpuBackend().runWebGPUProgram(program, inputs, dtype, uniforms);
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** Bytes of workgroup memory a kernel may use on this device. */
export function workgroupStorageBytes(): number {
  return webgpuBackend().device.limits.maxComputeWorkgroupStorageSize;
}

/**
 * A tensor's values when they are still in host memory (created from a typed array and not yet
 * uploaded or since read back), else `null`: reading them never waits for the GPU.
 */
export function hostResidentValues(t: tf.Tensor): ArrayLike<number> | null {
  const values = webgpuBackend().tensorMap.get(t.dataId)?.values;
  return values instanceof Int32Array || values instanceof Float32Array ? values : null;
}

/** Workgroups for `n` items at `perGroup` items each. */
export function groups(n: number, perGroup: number): number {
  return Math.max(1, Math.ceil(n / perGroup));
}
