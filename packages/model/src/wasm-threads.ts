/**
 * Starts the tfjs wasm backend with a given number of XNNPACK threads under Node.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 ships a multi-threaded SIMD build but never uses it in Node, for
 * three reasons, each worked around here without touching `node_modules`
 * (docs/decisions/0009-wasm-threads.md):
 *  1. `WASM_HAS_MULTITHREAD_SUPPORT` is hard-wired to false when `IS_NODE` (tensorflow/tfjs#3830): set it.
 *  2. Emscripten's pthread workers are started from a `blob:` URL, which `worker_threads.Worker` rejects
 *     (`ERR_WORKER_PATH`): while the backend starts, `Worker` runs such a worker from the same source
 *     (`wasmWorkerContents`) with `eval: true`, with a prelude that makes the worker load the threaded glue
 *     from disk instead of a Blob.
 *  3. The pool is capped at `os.cpus().length / 2` (hyper-threads assumed): 1 on a 2-vCPU machine. While
 *     the backend starts, `os.cpus()` reports enough CPUs.
 * Afterwards the pool's workers are `unref()`ed (their pthreads run for good, and Emscripten refs a worker
 * while its pthread runs), so a process exits when its own work is done.
 */
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import workerThreads from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import type * as WasmBackendModule from "@tensorflow/tfjs-backend-wasm";
import { ModelError } from "./model-errors.js";

/** What `startWasm` started. */
export interface WasmStart {
  /** XNNPACK threads of the running backend (the wasm module's `getThreadsCount()`). */
  threads: number;
  /** Why the threaded build did not start, when more than one thread was requested and 1 runs instead. */
  threadsFallback?: string;
}

/** The parts of the Emscripten module that manage the pthread pool. */
interface PThreadPool {
  runningWorkers: workerThreads.Worker[];
  unusedWorkers: workerThreads.Worker[];
}

type WasmModule = typeof WasmBackendModule;

/** How long the threaded build may take to start before we give up on it (it loads in ~1 s). */
const THREADED_START_TIMEOUT_MS = 60_000;

/**
 * Makes the wasm backend the active tfjs backend, running `threads` XNNPACK threads. A backend already
 * initialised with another thread count is re-created, which needs every tensor disposed first (they
 * would go with it). With `threads > 1`, a threaded build that cannot start falls back to 1 thread and
 * says why.
 */
export async function startWasm(threads: number): Promise<WasmStart> {
  const wasm: WasmModule = await import("@tensorflow/tfjs-backend-wasm");
  if (isInitialised() && wasm.getThreadsCount() !== threads) {
    const live = tf.memory().numTensors;
    if (live > 0) {
      throw new ModelError(
        "BACKEND",
        `the wasm backend already runs ${wasm.getThreadsCount()} thread(s) and ${live} tensor(s) exist, which a restart with ${threads} would lose; ` +
          `pass threads: ${threads} to the first initCompute (or set PYTHIA_WASM_THREADS), or dispose every tensor first`,
      );
    }
    recreateBackend();
  }
  if (threads === 1 || isInitialised()) {
    // Already running with this count (threaded or not), or the plain single-threaded build.
    await activate(threads > 1, wasm, threads);
    return { threads: wasm.getThreadsCount() };
  }
  try {
    await startThreaded(wasm, threads);
    return { threads: wasm.getThreadsCount() };
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0] ?? String(error);
    recreateBackend();
    await activate(false, wasm, 1);
    return {
      threads: wasm.getThreadsCount(),
      threadsFallback: `the multi-threaded wasm build could not start (${reason}); running 1 thread`,
    };
  }
}

/** Whether the wasm backend has been initialised (without initialising it, as `tf.findBackend` would). */
function isInitialised(): boolean {
  return "wasm" in tf.engine().registry;
}

/** `tf.setBackend("wasm")` with the threads flag and count set first (both are read when it starts). */
async function activate(multithread: boolean, wasm: WasmModule, threads: number): Promise<void> {
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", multithread);
  wasm.setThreadsCount(threads);
  if (!(await tf.setBackend("wasm"))) {
    throw new Error('tf.setBackend("wasm") returned false');
  }
  await tf.ready();
}

/**
 * Disposes the wasm backend (which terminates its pthreads) and registers its factory again, so that the
 * next `tf.setBackend("wasm")` starts a fresh module with the flags set then.
 */
function recreateBackend(): void {
  const factory = tf.findBackendFactory("wasm");
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", factory, 2); // 2: WASM_PRIORITY of tfjs-backend-wasm
}

/** Starts the multi-threaded build with the three workarounds of this file's comment. */
async function startThreaded(wasm: WasmModule, threads: number): Promise<void> {
  if (typeof SharedArrayBuffer === "undefined") {
    throw new Error("SharedArrayBuffer is not available");
  }
  const require = createRequire(import.meta.url);
  let glue: string;
  let workerSource: string;
  try {
    const entry = require.resolve("@tensorflow/tfjs-backend-wasm"); // …/dist/tf-backend-wasm.node.js
    const wasmOut = path.join(path.dirname(entry), "..", "wasm-out");
    glue = path.join(wasmOut, "tfjs-backend-wasm-threaded-simd.js");
    const workerModule = path.join(wasmOut, "tfjs-backend-wasm-threaded-simd.worker.js");
    workerSource = (require(workerModule) as { wasmWorkerContents: string }).wasmWorkerContents;
    require.resolve(glue);
  } catch (error) {
    throw new Error(
      `the threaded build's files were not found in @tensorflow/tfjs-backend-wasm (${(error as Error).message.split("\n")[0]})`,
    );
  }
  const prelude = `URL.createObjectURL = () => ${JSON.stringify(glue)}; URL.revokeObjectURL = () => {};\n`;
  const started: workerThreads.Worker[] = [];
  let starting = true;
  let failStart: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    failStart = reject;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`it did not start within ${THREADED_START_TIMEOUT_MS / 1000} s`)),
      THREADED_START_TIMEOUT_MS,
    );
  });
  const NodeWorker = workerThreads.Worker;
  const realCpus = os.cpus;
  // The glue reads `worker_threads.Worker` once, when the backend starts, and keeps it as the global
  // `Worker` for the pool's later workers; so both patches are needed only while it starts.
  workerThreads.Worker = class PThreadWorker extends NodeWorker {
    constructor(file: string | URL, options?: workerThreads.WorkerOptions) {
      if (!String(file).startsWith("blob:")) {
        super(file, options);
        return;
      }
      // tfjs escapes newlines in the source for its Blob; keep that, as the source expects it.
      super(prelude + workerSource.replace(/\n/g, "\\n"), { ...options, eval: true });
      started.push(this);
      // The glue's `onerror` rethrows, which would end the process: while starting, an error in a
      // worker fails the start instead (and 1 thread runs); afterwards the glue's handler runs.
      let glueOnError: ((error: unknown) => void) | undefined;
      Object.defineProperty(this, "onerror", {
        configurable: true,
        get: () => (error: unknown) => {
          if (starting) {
            failStart(new Error(`a pthread worker failed: ${(error as Error)?.message ?? String(error)}`));
          } else {
            glueOnError?.(error);
          }
        },
        set: (handler: (error: unknown) => void) => {
          glueOnError = handler;
        },
      });
    }
  };
  os.cpus = () => {
    const cpus = realCpus();
    return Array.from(
      { length: Math.max(cpus.length, 2 * threads) },
      (_, i) => cpus[i % cpus.length] as os.CpuInfo,
    );
  };
  try {
    await Promise.race([activate(true, wasm, threads), failed, timeout]);
  } catch (error) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    await Promise.all(started.map((worker) => worker.terminate()));
    throw error;
  } finally {
    starting = false;
    clearTimeout(timer);
    workerThreads.Worker = NodeWorker;
    os.cpus = realCpus;
  }
  const backend = tf.engine().registry.wasm as unknown as { wasm: { PThread?: PThreadPool } };
  const pool = backend.wasm.PThread;
  for (const worker of [...(pool?.runningWorkers ?? []), ...(pool?.unusedWorkers ?? [])]) {
    worker.unref();
  }
}
