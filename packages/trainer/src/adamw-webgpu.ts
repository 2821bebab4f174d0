/**
 * The AdamW update as one WGSL kernel per parameter on tfjs' WebGPU backend: it reads the gradient and
 * the clipping coefficient and updates the parameter and both moments in place (4 reads, 3 writes per
 * element, where the tfjs ops take ~12 passes and new buffers for each result). The kernel is recorded
 * into tfjs' own command stream, so it runs after the gradients it reads and before anything that reads
 * the parameters; the coefficient stays on the GPU, so a step needs no read-back.
 * Same arithmetic as `adamw.ts` (torch's `_single_tensor_adamw`, float32):
 *   g ← g·coef;  p ← p·(1 − lr·wd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 *   p ← p − stepSize · m / (√v / secondCorrection + ε)
 * Internal tfjs 4.22 API (WebGPUBackend's command encoder, tensor map and uniforms), pinned by the peer range.
 */
/// <reference types="@webgpu/types" />
import * as tf from "@tensorflow/tfjs-core";

interface TensorData {
  resource: GPUBuffer | null;
  refCount: number;
}

interface WebGPUBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): TensorData | undefined };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  makeUniforms(values: Array<{ type: "float32" | "int32"; data: number[] }>): GPUBufferBinding;
}

const WORKGROUP = 256;

const SHADER = /* wgsl */ `
struct Hyper { n : u32, groupsX : u32, decayFactor : f32, beta1 : f32, beta2 : f32, eps : f32, stepSize : f32, secondCorrection : f32 };
@group(0) @binding(0) var<storage, read_write> param : array<f32>;
@group(0) @binding(1) var<storage, read_write> m : array<f32>;
@group(0) @binding(2) var<storage, read_write> v : array<f32>;
@group(0) @binding(3) var<storage, read> grad : array<f32>;
@group(0) @binding(4) var<storage, read> coef : array<f32>;
@group(0) @binding(5) var<uniform> h : Hyper;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let i = id.y * h.groupsX * ${WORKGROUP}u + id.x;
  if (i >= h.n) { return; }
  let g = grad[i] * coef[0];
  let mi = h.beta1 * m[i] + (1.0 - h.beta1) * g;
  let vi = h.beta2 * v[i] + (1.0 - h.beta2) * (g * g);
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] * h.decayFactor - (mi / (sqrt(vi) / h.secondCorrection + h.eps)) * h.stepSize;
}`;

const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();

/** The backend's internals, or null when the active backend is not WebGPU. */
export function webgpuInternals(): WebGPUBackendInternals | null {
  return tf.getBackend() === "webgpu" ? (tf.backend() as unknown as WebGPUBackendInternals) : null;
}

/**
 * Gives `variable` a buffer of its own (a tensor created from its initial value, or assigned to it,
 * shares its buffer), so that writing it in place changes nothing else.
 */
export function ownBuffer(backend: WebGPUBackendInternals, variable: tf.Variable): void {
  if ((backend.tensorMap.get(variable.dataId)?.refCount ?? 1) > 1) {
    const copy = tf.mul(variable, tf.scalar(1)); // x·1 is exact: a copy in a buffer of its own
    variable.assign(copy);
    copy.dispose();
  }
}

/** Hyper-parameters of one update, already folded as `adamw.ts` folds them. */
export interface FusedAdamWStep {
  decayFactor: number;
  beta1: number;
  beta2: number;
  eps: number;
  stepSize: number;
  secondCorrection: number;
}

/** Records one in-place AdamW update of `param`, `m` and `v` (each with a buffer of its own). */
export function fusedAdamW(
  backend: WebGPUBackendInternals,
  buffers: { param: tf.Variable; m: tf.Variable; v: tf.Variable; grad: tf.Tensor; coef: tf.Tensor },
  step: FusedAdamWStep,
): void {
  const tensors = [buffers.param, buffers.m, buffers.v, buffers.grad, buffers.coef];
  for (const t of tensors) {
    backend.uploadToGPU(t.dataId);
  }
  const n = buffers.param.size;
  const groups = Math.ceil(n / WORKGROUP);
  const groupsX = Math.min(groups, 65535);
  // One scalar per entry: tfjs aligns longer entries as vectors, which would not match the struct.
  const uniforms = backend.makeUniforms([
    { type: "int32", data: [n] },
    { type: "int32", data: [groupsX] },
    ...[step.decayFactor, step.beta1, step.beta2, step.eps, step.stepSize, step.secondCorrection].map(
      (value) => ({ type: "float32" as const, data: [value] }),
    ),
  ]);
  const pipeline = pipelineFor(backend.device);
  const bindGroup = backend.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      ...tensors.map((t, binding) => ({ binding, resource: { buffer: bufferOf(backend, t) } })),
      { binding: 5, resource: uniforms },
    ],
  });
  backend.ensureCommandEncoderReady();
  if (backend.computePassEncoder === null) {
    backend.computePassEncoder = (backend.commandEncoder as GPUCommandEncoder).beginComputePass();
  }
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  backend.computePassEncoder.dispatchWorkgroups(groupsX, Math.ceil(groups / groupsX), 1);
  for (const t of tensors) {
    backend.commandQueueOwnedIds.add(t.dataId); // keeps their buffers alive until the work is submitted
  }
  backend.dispatchCountInPass += 1;
  if (backend.dispatchCountInPass >= (tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE") as number)) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

function bufferOf(backend: WebGPUBackendInternals, t: tf.Tensor): GPUBuffer {
  const resource = backend.tensorMap.get(t.dataId)?.resource;
  if (resource === null || resource === undefined) {
    throw new Error(`tensor ${t.id} has no GPU buffer`);
  }
  return resource;
}

function pipelineFor(device: GPUDevice): GPUComputePipeline {
  let pipeline = pipelines.get(device);
  if (pipeline === undefined) {
    pipeline = device.createComputePipeline({
      layout: "auto",
      compute: {
        module: device.createShaderModule({ code: SHADER, label: "pythiaAdamW" }),
        entryPoint: "main",
      },
      label: "pythiaAdamW",
    });
    pipelines.set(device, pipeline);
  }
  return pipeline;
}
