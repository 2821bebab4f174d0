/**
 * A small request/response pool of `worker_threads` workers. The worker side calls `serveWorker` with
 * a handler; the pool sends each request to the least busy worker and resolves with its answer.
 * An error thrown by the handler rejects that request only (code `WORKER_REQUEST`, the handler's
 * message); a crashed worker rejects everything pending (code `WORKER`).
 */
import { isMainThread, parentPort, Worker, type TransferListItem } from "node:worker_threads";
import { PythiaError } from "./pythia-error.js";

/** What a pool's `run` returns (the worker's handler result). */
export interface WorkerPool<Request, Response> {
  /** Workers in the pool. */
  readonly size: number;
  /** Sends `request` (transferring `transfer`) to the least busy worker. */
  run(request: Request, transfer?: readonly TransferListItem[]): Promise<Response>;
  /** Terminates every worker (pending requests reject). */
  close(): Promise<void>;
}

interface Envelope {
  seq: number;
  request?: unknown;
  result?: unknown;
  error?: string;
  ready?: boolean;
}

/**
 * Starts `size` workers from `url` (each gets `workerData`) and waits until each is ready.
 * @throws PythiaError (`WORKER`) when a worker fails to start.
 */
export async function startWorkerPool<Request, Response>(params: {
  url: URL;
  size: number;
  workerData?: unknown;
  /** Names the pool in error messages. */
  name: string;
}): Promise<WorkerPool<Request, Response>> {
  if (!Number.isInteger(params.size) || params.size < 1) {
    throw new PythiaError(
      "WORKER",
      `${params.name}: worker count must be a positive integer, got ${params.size}`,
    );
  }
  let seq = 0;
  const started = await Promise.allSettled(
    Array.from({ length: params.size }, () => startOne(params.url, params.workerData, params.name)),
  );
  const workers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(workers.map((worker) => worker.worker.terminate()));
    throw failed.reason;
  }
  return {
    size: workers.length,
    run(request, transfer = []) {
      const live = workers.filter((worker) => worker.alive);
      if (live.length === 0) {
        return Promise.reject(new PythiaError("WORKER", `${params.name}: every worker has stopped`));
      }
      const worker = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      return worker.send(seq++, request, transfer) as Promise<Response>;
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.worker.terminate()));
    },
  };
}

interface PooledWorker {
  worker: Worker;
  /** False once the worker has crashed or exited; it gets no more requests. */
  alive: boolean;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>;
  send(seq: number, request: unknown, transfer: readonly TransferListItem[]): Promise<unknown>;
}

function startOne(url: URL, workerData: unknown, name: string): Promise<PooledWorker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData });
    const pooled: PooledWorker = {
      worker,
      alive: true,
      pending: new Map(),
      send: (seq, request, transfer) =>
        new Promise((resolveRequest, rejectRequest) => {
          pooled.pending.set(seq, { resolve: resolveRequest, reject: rejectRequest });
          worker.postMessage({ seq, request }, transfer);
        }),
    };
    const fail = (error: Error) => {
      pooled.alive = false;
      for (const waiter of pooled.pending.values()) {
        waiter.reject(error);
      }
      pooled.pending.clear();
      reject(error); // a no-op once started
    };
    worker.on("error", (error) =>
      fail(new PythiaError("WORKER", `${name}: worker failed: ${error.message}`, { cause: error })),
    );
    worker.on("exit", (code) =>
      fail(
        new PythiaError(
          "WORKER",
          `${name}: worker exited (code ${code})${pooled.pending.size > 0 ? " with requests pending" : ""}`,
        ),
      ),
    );
    worker.on("message", (message: Envelope) => {
      if (message.ready === true) {
        resolve(pooled);
        return;
      }
      const waiter = pooled.pending.get(message.seq);
      pooled.pending.delete(message.seq);
      if ("error" in message) {
        waiter?.reject(new PythiaError("WORKER_REQUEST", `${name}: ${String(message.error)}`));
      } else {
        waiter?.resolve(message.result);
      }
    });
  });
}

/**
 * The worker side: answers each request with `handler`'s result (transferring what it lists), after
 * `setup` (awaited once, e.g. loading a tokenizer) resolves.
 */
export async function serveWorker<Request, Response, State>(params: {
  setup: () => Promise<State> | State;
  handler: (request: Request, state: State) => { result: Response; transfer?: readonly TransferListItem[] };
}): Promise<void> {
  const port = parentPort;
  if (isMainThread || port === null) {
    throw new Error("serveWorker must run in a worker thread");
  }
  const state = await params.setup();
  port.on("message", (message: Envelope) => {
    try {
      const { result, transfer } = params.handler(message.request as Request, state);
      port.postMessage({ seq: message.seq, result }, transfer ?? []);
    } catch (error) {
      port.postMessage({ seq: message.seq, error: error instanceof Error ? error.message : String(error) });
    }
  });
  port.postMessage({ seq: -1, ready: true });
}
