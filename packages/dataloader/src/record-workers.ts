import { startWorkerPool, type PythiaError } from "@pythia/core";
import { DataloaderError } from "./errors.js";

/** Requests run on this thread or on a pool of worker threads, as `startRecordWorkers` chose. */
export interface RecordWorkers<Request, Response> {
  /** How many requests run at once (1 on this thread). */
  parallelism: number;
  run(request: Request): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Runs requests on this thread (`workers: 0`, with `local`) or on a pool of `workers` threads
 * running the package's built `script` (`preprocess-worker.js`, `dedup-worker.js`). Failures become
 * `DataloaderError`s: a bad request `DATASET_INPUT`, a worker that fails `DATASET_IO`.
 * @throws DataloaderError when `workers` is not a non-negative integer or a worker fails to start.
 */
export async function startRecordWorkers<Request, Response>(params: {
  workers: number;
  script: string;
  /** Names the pool in error messages. */
  name: string;
  workerData?: unknown;
  local: (request: Request) => Response;
}): Promise<RecordWorkers<Request, Response>> {
  const { workers } = params;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new DataloaderError("DATASET_INPUT", `workers must be a non-negative integer, got ${workers}`);
  }
  if (workers === 0) {
    return { parallelism: 1, run: async (request) => params.local(request), close: async () => {} };
  }
  const pool = await startWorkerPool<Request, Response>({
    url: workerUrl(params.script),
    size: workers,
    name: params.name,
    workerData: params.workerData,
  }).catch((error: Error) => {
    throw new DataloaderError("DATASET_IO", error.message, { cause: error });
  });
  return {
    parallelism: workers,
    run: (request) =>
      pool.run(request).catch((error: PythiaError) => {
        const code = error.code === "WORKER_REQUEST" ? "DATASET_INPUT" : "DATASET_IO";
        throw new DataloaderError(code, error.message, { cause: error });
      }),
    close: () => pool.close(),
  };
}

/** A built worker script (from the sources, tests use the build in `dist/`). */
function workerUrl(script: string): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL(`../dist/${script}`, import.meta.url)
    : new URL(`./${script}`, import.meta.url);
}
