/**
 * The one compute bootstrap: picks a TensorFlow.js backend, registers the kernels the wasm backend
 * lacks for training, and says which backend runs. Nothing in `@pythia/*` selects a backend at import
 * time; apps and tests call `initCompute()` once (see docs/decisions/0002-tfjs-backend-policy.md).
 */
import * as tf from "@tensorflow/tfjs-core";
import { registerCoreGradients } from "./core-gradients.js";
import { ModelError } from "./model-errors.js";
import { registerWasmFallbackKernels } from "./wasm-fallback-kernels.js";
import { startWebGPU, WebGPUUnavailable, type WebGPUAdapterReport } from "./webgpu-start.js";

export { takeWebGPUErrors, type WebGPUAdapterReport } from "./webgpu-start.js";

/**
 * The backends, best first for `auto`: tfjs-node-gpu only where it is already installed (it can no
 * longer be installed: its libtensorflow download answers 403), then a hardware WebGPU adapter, then
 * the CPU backends. A software WebGPU adapter (SwiftShader, lavapipe) is used only when asked for.
 */
export const BACKENDS = ["tfjs-node-gpu", "webgpu", "tfjs-node", "wasm", "cpu"] as const;

/** A backend `initCompute` can select. */
export type BackendName = (typeof BACKENDS)[number];

/** What `initCompute` selected (also written into a training run's `run.json`). */
export interface ComputeInfo {
  backend: BackendName;
  /** The backend's name inside tfjs (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  tfjsBackend: string;
  tfjsVersion: string;
  /** Backends tried before this one, with why each was skipped. */
  skipped: Array<{ backend: BackendName; reason: string }>;
  /** Kernels registered by us because the backend lacks them. */
  fallbackKernels: string[];
  /** wasm only: SIMD support detected by tfjs, and the threads XNNPACK runs (the wasm module's count). */
  wasm?: {
    simd: boolean;
    threads: number;
    /** Why the multi-threaded build did not start, when more than one thread was asked for. */
    threadsFallback?: string;
  };
  /** webgpu only: the adapter (vendor, architecture, description, limits, software or not). */
  webgpu?: WebGPUAdapterReport;
}

/** Parameters of `initCompute`. */
export interface InitComputeParams {
  /**
   * A backend to use, or `"auto"` for the best available (tfjs-node-gpu → a hardware WebGPU adapter →
   * tfjs-node → wasm → cpu).
   * @default process.env.PYTHIA_BACKEND ?? "auto"
   */
  backend?: BackendName | "auto";
  /**
   * wasm only: threads for the matrix products (XNNPACK). More than 1 starts tfjs' multi-threaded wasm
   * build, which tfjs itself never uses under Node (docs/decisions/0009-wasm-threads.md): 1.4–1.8× faster
   * training with 2 threads on 2 idle cores, identical results. If it cannot start, 1 thread runs and
   * `ComputeInfo.wasm.threadsFallback` says why. Fixed once tensors exist: changing it later throws
   * unless every tensor has been disposed.
   * @default Number(process.env.PYTHIA_WASM_THREADS) || 1
   */
  threads?: number;
}

let current: ComputeInfo | null = null;

/**
 * Selects and initialises a tfjs backend. With `"auto"`, an optional backend that is not installed
 * (or whose native library fails to load) is skipped with its reason recorded; an explicitly requested
 * backend that cannot start throws a `ModelError` (code `BACKEND`) saying how to install it.
 *
 * @example
 * const info = await initCompute(); // { backend: "wasm", ... } on a machine without tfjs-node
 */
export async function initCompute(params: InitComputeParams = {}): Promise<ComputeInfo> {
  const requested = params.backend ?? readEnvBackend() ?? "auto";
  const threads = params.threads ?? readEnvThreads() ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ModelError("BACKEND", `threads must be a whole number ≥ 1, got ${threads}`);
  }
  registerCoreGradients(); // tfjs-core has none of its own (docs/decisions/0017)
  const candidates: readonly BackendName[] = requested === "auto" ? BACKENDS : [requested];
  const skipped: ComputeInfo["skipped"] = [];
  for (const backend of candidates) {
    try {
      let wasm: ComputeInfo["wasm"];
      let webgpu: WebGPUAdapterReport | undefined;
      if (backend === "wasm") {
        const started = await startWasmBackend(threads);
        wasm = { simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), ...started };
      } else if (backend === "webgpu") {
        webgpu = await startWebGPU({ allowSoftware: requested === "webgpu" });
      } else {
        await activate(backend);
      }
      const fallbackKernels = backend === "wasm" ? registerWasmFallbackKernels() : [];
      current = {
        backend,
        tfjsBackend: tf.getBackend(),
        tfjsVersion: tf.version_core,
        skipped,
        fallbackKernels,
        ...(wasm === undefined ? {} : { wasm }),
        ...(webgpu === undefined ? {} : { webgpu }),
      };
      return current;
    } catch (error) {
      if (ModelError.isInstance(error)) {
        throw error; // our own diagnosis (e.g. threads changed while tensors exist), not a missing package
      }
      const reason = (error as Error).message.split("\n")[0] ?? String(error);
      if (requested !== "auto" && error instanceof WebGPUUnavailable) {
        throw new ModelError("BACKEND", `backend "webgpu" could not start: ${reason}`, { cause: error });
      }
      if (requested !== "auto") {
        throw new ModelError(
          "BACKEND",
          `backend "${backend}" could not start (${reason}); ${installHint(backend)}`,
          { cause: error },
        );
      }
      skipped.push({ backend, reason });
    }
  }
  throw new ModelError(
    "BACKEND",
    `no tfjs backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join("; ")}`,
  );
}

/**
 * Starts the wasm backend: in Node through `wasm-threads.ts` (which can start tfjs' multi-threaded build),
 * loaded only there so that a browser bundle carries no Node built-ins; in a browser, tfjs' own start.
 */
async function startWasmBackend(threads: number): Promise<{ threads: number; threadsFallback?: string }> {
  if (typeof process !== "undefined" && process.versions?.node !== undefined) {
    const { startWasm } = await import("./wasm-threads.js");
    return startWasm(threads);
  }
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  if (!(await tf.setBackend("wasm"))) {
    throw new Error('tf.setBackend("wasm") returned false');
  }
  await tf.ready();
  return { threads: wasm.getThreadsCount() };
}

/** The backend selected by the last `initCompute`, or `null` before it ran. */
export function computeInfo(): ComputeInfo | null {
  return current;
}

function readEnvBackend(): BackendName | "auto" | undefined {
  const value = typeof process === "undefined" ? undefined : process.env.PYTHIA_BACKEND;
  if (value === undefined || value === "") {
    return undefined;
  }
  if (value === "auto" || (BACKENDS as readonly string[]).includes(value)) {
    return value as BackendName | "auto";
  }
  throw new ModelError(
    "BACKEND",
    `PYTHIA_BACKEND="${value}" is not a backend; use one of auto, ${BACKENDS.join(", ")}`,
  );
}

function readEnvThreads(): number | undefined {
  const value = typeof process === "undefined" ? undefined : process.env.PYTHIA_WASM_THREADS;
  if (value === undefined || value === "") {
    return undefined;
  }
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ModelError("BACKEND", `PYTHIA_WASM_THREADS="${value}" is not a whole number ≥ 1`);
  }
  return threads;
}

/**
 * Loads a backend's module (by dynamic import) and makes it the active backend. The wasm
 * backend starts in `startWasm` (wasm-threads.ts), which also sets its thread count.
 */
async function activate(backend: Exclude<BackendName, "wasm" | "webgpu">): Promise<void> {
  let name: string;
  switch (backend) {
    case "tfjs-node-gpu":
    case "tfjs-node": {
      // Optional peers, never installed by us: a variable specifier keeps bundlers from resolving them.
      const specifier = backend === "tfjs-node-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
      await import(/* @vite-ignore */ specifier);
      name = "tensorflow";
      break;
    }
    case "cpu":
      // Registers the cpu backend with tfjs-core; loaded here, not at import, so that importing
      // `@pythia/model` registers no backend.
      await import("@tensorflow/tfjs-backend-cpu");
      name = "cpu";
      break;
  }
  if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend("${name}") returned false`);
  }
  await tf.ready();
  if (backend === "cpu") {
    skipCpuNodeNotice(tf.backend());
  }
}

/**
 * tfjs's cpu backend prints a 4-line "Hi, looks like you are running TensorFlow.js in Node.js…"
 * banner on stderr at its first tensor in Node (`MathBackendCPU.write`, while its `firstUse` is true).
 * A library never prints, and the commands already say which backend runs, so mark that first use
 * as past. Only that one notice goes (tfjs's other warnings stay); a tfjs without the field is left
 * as it is.
 */
function skipCpuNodeNotice(backend: unknown): void {
  const cpu = backend as { firstUse?: unknown };
  if (typeof cpu.firstUse === "boolean") {
    cpu.firstUse = false;
  }
}

function installHint(backend: BackendName): string {
  switch (backend) {
    case "tfjs-node-gpu":
      return "install @tensorflow/tfjs-node-gpu@4.22 on a CUDA host where its install script can download libtensorflow, or choose wasm";
    case "tfjs-node":
      return "install @tensorflow/tfjs-node@4.22 where its install script can download libtensorflow, or choose wasm";
    case "wasm":
      return "install @tensorflow/tfjs-backend-wasm@4.22 (a peer dependency of @pythia/model)";
    case "webgpu":
      return "install @tensorflow/tfjs-backend-webgpu@4.22 (and, in Node, webgpu@0.6)";
    case "cpu":
      return "install @tensorflow/tfjs-backend-cpu@4.22 (a peer dependency of @pythia/model)";
  }
}
