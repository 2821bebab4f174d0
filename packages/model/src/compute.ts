/**
 * The one compute bootstrap: picks a TensorFlow.js backend, registers the kernels the wasm backend
 * lacks for training, and says which backend runs. Nothing in `@pythia/*` selects a backend at import
 * time; apps and tests call `initCompute()` once (see docs/decisions/0002-tfjs-backend-policy.md).
 */
import * as tf from "@tensorflow/tfjs";
import { ModelError } from "./model-errors.js";
import { registerWasmFallbackKernels } from "./wasm-fallback-kernels.js";

/** The backends, best first. */
export const BACKENDS = ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"] as const;

/** A backend `initCompute` can select. */
export type BackendName = (typeof BACKENDS)[number];

/** What `initCompute` selected (also written into a training run's `run.json`). */
export interface ComputeInfo {
  backend: BackendName;
  /** The backend's name inside tfjs (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  tfjsVersion: string;
  /** Backends tried before this one, with why each was skipped. */
  skipped: Array<{ backend: BackendName; reason: string }>;
  /** Kernels registered by us because the backend lacks them. */
  fallbackKernels: string[];
  /** wasm only: SIMD and thread support detected by tfjs. */
  wasm?: { simd: boolean; threads: number };
}

/** Parameters of `initCompute`. */
export interface InitComputeParams {
  /**
   * A backend to use, or `"auto"` for the best available (tfjs-node-gpu → tfjs-node → wasm → cpu).
   * @default process.env.PYTHIA_BACKEND ?? "auto"
   */
  backend?: BackendName | "auto";
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
  const candidates: readonly BackendName[] = requested === "auto" ? BACKENDS : [requested];
  const skipped: ComputeInfo["skipped"] = [];
  for (const backend of candidates) {
    try {
      const tfjsBackend = await activate(backend);
      const fallbackKernels = backend === "wasm" ? registerWasmFallbackKernels() : [];
      current = {
        backend,
        tfjsBackend,
        tfjsVersion: tf.version.tfjs,
        skipped,
        fallbackKernels,
        ...(backend === "wasm"
          ? { wasm: { simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), threads: wasmThreads() } }
          : {}),
      };
      return current;
    } catch (error) {
      const reason = (error as Error).message.split("\n")[0] ?? String(error);
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

/** Loads the backend's module (optional ones by dynamic import) and makes it the active backend. */
async function activate(backend: BackendName): Promise<string> {
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
    case "wasm":
      await import("@tensorflow/tfjs-backend-wasm");
      name = "wasm";
      break;
    case "cpu":
      name = "cpu";
      break;
  }
  if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend("${name}") returned false`);
  }
  await tf.ready();
  return name;
}

function wasmThreads(): number {
  if (!tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT")) {
    return 1;
  }
  const backend = tf.backend() as unknown as { getThreadsCount?: () => number };
  return backend.getThreadsCount?.() ?? 1;
}

function installHint(backend: BackendName): string {
  switch (backend) {
    case "tfjs-node-gpu":
      return "install @tensorflow/tfjs-node-gpu@4.22 on a CUDA host where its install script can download libtensorflow, or choose wasm";
    case "tfjs-node":
      return "install @tensorflow/tfjs-node@4.22 where its install script can download libtensorflow, or choose wasm";
    case "wasm":
      return "install @tensorflow/tfjs-backend-wasm@4.22 (a peer dependency of @pythia/model)";
    case "cpu":
      return "reinstall @tensorflow/tfjs";
  }
}
