/// <reference types="@webgpu/types" />
/**
 * Starts tfjs' WebGPU backend on the adapter we choose. In a browser `navigator.gpu` is already there;
 * in Node the optional `webgpu` package (Dawn with prebuilt binaries) provides it, loaded with a dynamic
 * `import()` that a browser bundle never follows. See docs/decisions/0011-webgpu-is-the-gpu-path.md.
 */
import * as tf from "@tensorflow/tfjs-core";

/** The adapter WebGPU runs on, as `initCompute` reports it (and a run's `run.json` records it). */
export interface WebGPUAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, lavapipe, llvmpipe, WARP): correct but slow. */
  software: boolean;
  /** Where `navigator.gpu` came from. */
  provider: "browser" | "webgpu (Dawn for Node)";
  /** The adapter's optional features that matter to us (`shader-f16`, `timestamp-query`, `subgroups`). */
  features: string[];
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
  };
}

/** Why WebGPU could not start; `initCompute` turns it into the user's message. */
export class WebGPUUnavailable extends Error {
  override readonly name = "WebGPUUnavailable";
}

const gpuErrors: string[] = [];

/**
 * WebGPU errors (invalid pipelines, out-of-memory, lost devices) since the last call, emptied on
 * read. WebGPU reports them asynchronously and skips the failed work, so a training step checks this
 * rather than carrying on with results that were never computed.
 */
export function takeWebGPUErrors(): string[] {
  return gpuErrors.splice(0, gpuErrors.length);
}

/** Names that identify CPU implementations of WebGPU/Vulkan. */
const SOFTWARE_ADAPTERS = /swiftshader|lavapipe|llvmpipe|software|warp|microsoft basic render/i;

/**
 * Requests a `high-performance` adapter, reports it, and registers tfjs' `webgpu` backend on a device
 * of that adapter (the backend package's own factory would request an adapter of its own and ask for
 * features as arrays, which Dawn rejects in newer versions). With `allowSoftware: false` a software
 * adapter is refused, so `auto` never picks SwiftShader over wasm.
 */
export async function startWebGPU(params: { allowSoftware: boolean }): Promise<WebGPUAdapterReport> {
  const { gpu, provider } = await findGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (adapter === null) {
    throw new WebGPUUnavailable(
      provider === "browser"
        ? "the browser has navigator.gpu but no adapter (WebGPU disabled, or blocklisted GPU)"
        : noAdapterHint(),
    );
  }
  const report = describeAdapter(adapter, provider);
  if (report.software && !params.allowSoftware) {
    throw new WebGPUUnavailable(
      `the only WebGPU adapter is a software one (${report.description}); ask for --backend webgpu explicitly to use it`,
    );
  }
  const features: GPUFeatureName[] = (["timestamp-query", "shader-f16"] as const).filter((f) =>
    adapter.features.has(f),
  );
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  device.addEventListener("uncapturederror", (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message.split("\n")[0] ?? "unknown error";
    if (gpuErrors.length < 100) {
      gpuErrors.push(message);
    }
  });
  const backendModule = await import("@tensorflow/tfjs-backend-webgpu");
  if (tf.findBackendFactory("webgpu") !== null) {
    tf.removeBackend("webgpu");
  }
  tf.registerBackend("webgpu", () => new backendModule.WebGPUBackend(device, adapter.info), 0);
  if (!(await tf.setBackend("webgpu"))) {
    throw new WebGPUUnavailable('tf.setBackend("webgpu") returned false');
  }
  await tf.ready();
  // tfjs splits the inner dimension of products with few output tiles over workgroups that add with
  // float atomics (MatMulSplitKProgram), in an order that changes between runs; a threshold below one
  // workgroup keeps every product on the tiled kernel, so the same seed gives the same checkpoint.
  tf.env().set("WEBGPU_THRESHOLD_TO_INCREASE_WORKGROUPS_FOR_MATMUL", Number.MIN_VALUE);
  return report;
}

/** `navigator.gpu`, from the browser or from the `webgpu` package in Node. */
async function findGpu(): Promise<{ gpu: GPU; provider: WebGPUAdapterReport["provider"] }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu !== undefined && !isNode()) {
    return { gpu: nav.gpu, provider: "browser" };
  }
  if (!isNode()) {
    throw new WebGPUUnavailable("this browser has no navigator.gpu (WebGPU is not enabled)");
  }
  // Dawn's Vulkan loader complains on stderr when XDG_RUNTIME_DIR is unset (root shells, CI).
  process.env.XDG_RUNTIME_DIR ??= "/tmp";
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    // A variable specifier: bundlers for the browser must not try to resolve the Node-only package.
    const specifier = "webgpu";
    dawn = (await import(/* @vite-ignore */ specifier)) as typeof dawn;
  } catch (error) {
    throw new WebGPUUnavailable(
      `the optional package "webgpu" is not installed (${(error as Error).message.split("\n")[0]}); run \`npm install webgpu@0.6\``,
    );
  }
  // tfjs' WebGPU backend reads GPUBufferUsage and friends from the global scope, and checks
  // `navigator.gpu` when it is imported (Node 20 has no `navigator` at all: tfjs issue 8066).
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) {
      (globalThis as Record<string, unknown>)[name] = value;
    }
  }
  const gpu = nav?.gpu ?? dawn.create([]);
  if (nav === undefined) {
    Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  } else if (nav.gpu === undefined) {
    Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
  }
  return { gpu, provider: "webgpu (Dawn for Node)" };
}

function isNode(): boolean {
  return typeof process !== "undefined" && process.versions?.node !== undefined;
}

function noAdapterHint(): string {
  const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  const where = icd === undefined ? "" : ` (VK_ICD_FILENAMES=${icd})`;
  return (
    `Dawn found no Vulkan adapter${where}: install your GPU's Vulkan driver and the loader ` +
    "(Debian/Ubuntu: `apt-get install libvulkan1 mesa-vulkan-drivers`, or the NVIDIA driver's Vulkan ICD); " +
    "on a machine without a GPU, `apt-get install chromium libvulkan1` and " +
    "VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json give SwiftShader (slow, for tests)"
  );
}

function describeAdapter(
  adapter: GPUAdapter,
  provider: WebGPUAdapterReport["provider"],
): WebGPUAdapterReport {
  const info = adapter.info;
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ");
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const limits = adapter.limits;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: fallback || SOFTWARE_ADAPTERS.test(text),
    provider,
    features: ["shader-f16", "timestamp-query", "subgroups"].filter((f) => adapter.features.has(f)),
    limits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}
