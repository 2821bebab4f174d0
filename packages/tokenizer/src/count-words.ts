import { open, stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { GPT2_SPLIT_PATTERN } from "./byte-level.js";
import { TokenizerError } from "./errors.js";
import {
  createWordCounter,
  wordCountWorkerMain,
  type WordCountReply,
  type WordCountRequest,
} from "./word-counter.js";

/** Parameters of `countWords`. */
export interface CountWordsParams {
  /** Text files, read as HF tokenizers does: each line (with its `\n`) is one sequence. */
  files?: readonly string[];
  /** Sequences given directly (each string is one sequence; it is not split into lines). */
  texts?: Iterable<string> | AsyncIterable<string>;
  /** Worker threads counting file chunks; 0 counts on the calling thread. @default 2 */
  workers?: number;
  /** Bytes read per chunk sent to a worker. @default 1 MiB */
  chunkBytes?: number;
  /** Stops between chunks when aborted. */
  signal?: AbortSignal;
}

/** Progress of `countWords` over files. */
export interface CountProgress {
  type: "count-progress";
  /** Bytes of all files read so far. */
  bytesRead: number;
  /** Total size of all files. */
  totalBytes: number;
  /** The file being read. */
  file: string;
}

const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Chunks queued per worker: one being counted, one waiting, so workers never idle on I/O. */
const QUEUED_PER_WORKER = 2;

/**
 * Counts the GPT-2 split pieces ("words") of files and texts: the first pass of BPE training. Files are
 * streamed in chunks cut at line ends and counted on worker threads, so any file size works in
 * bounded memory (plus the counts). Yields progress; returns word -> count.
 * @throws TokenizerError (`TOKENIZER_FILE`) when a file cannot be read, (`TOKENIZER_INPUT`) when it is not UTF-8.
 */
export async function* countWords(
  params: CountWordsParams,
): AsyncGenerator<CountProgress, Map<string, number>> {
  const files = params.files ?? [];
  const chunkBytes = params.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const workerCount = files.length === 0 ? 0 : (params.workers ?? 2);
  if (!Number.isInteger(workerCount) || workerCount < 0) {
    throw new TokenizerError("TOKENIZER_INPUT", `workers must be a non-negative integer, got ${workerCount}`);
  }
  const local = createWordCounter(GPT2_SPLIT_PATTERN.source, GPT2_SPLIT_PATTERN.flags);
  if (params.texts !== undefined) {
    for await (const text of params.texts) {
      if (typeof text !== "string") {
        throw new TokenizerError("TOKENIZER_INPUT", `texts: expected strings, got ${typeof text}`);
      }
      local.addSequence(text);
    }
  }
  if (files.length === 0) {
    return local.counts();
  }
  const sizes: number[] = [];
  for (const file of files) {
    sizes.push((await stat(file).catch((error: unknown) => rethrowFileError(file, error))).size);
  }
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const pool = workerCount > 0 ? new CountingPool(workerCount) : null;
  let bytesRead = 0;
  try {
    for (const file of files) {
      for await (const chunk of readLineChunks(file, chunkBytes, params.signal)) {
        bytesRead += chunk.length;
        if (pool === null) {
          try {
            local.addLines(chunk.bytes);
          } catch (error) {
            throw notUtf8(file, chunk.offset, error);
          }
        } else {
          await pool.send(chunk.bytes, file, chunk.offset);
        }
        yield { type: "count-progress", bytesRead, totalBytes, file };
      }
    }
    if (pool !== null) {
      const counts = local.counts();
      for (const part of await pool.finish()) {
        mergeCounts(counts, part);
      }
      return counts;
    }
  } finally {
    await pool?.close();
  }
  return local.counts();
}

function mergeCounts(into: Map<string, number>, from: Map<string, number>): void {
  for (const [word, count] of from) {
    into.set(word, (into.get(word) ?? 0) + count);
  }
}

function rethrowFileError(file: string, error: unknown): never {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  throw new TokenizerError("TOKENIZER_FILE", `cannot read training file ${file} (${code}); check the path`, {
    cause: error,
  });
}

function notUtf8(file: string, offset: number, cause: unknown): TokenizerError {
  return new TokenizerError(
    "TOKENIZER_INPUT",
    `${file} is not valid UTF-8 (in the lines starting at byte ${offset}); convert it to UTF-8 before training`,
    { cause },
  );
}

/** A run of whole lines of a file (the last one may lack its `\n` at the end of the file). */
interface LineChunk {
  /** The bytes, in an `ArrayBuffer` of their own (transferable to a worker). */
  bytes: Uint8Array;
  /** Byte offset of the chunk in the file. */
  offset: number;
  length: number;
}

/** Reads `file` in chunks of about `chunkBytes`, each cut after a `\n` (a longer line makes a larger chunk). */
async function* readLineChunks(
  file: string,
  chunkBytes: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<LineChunk, void> {
  const handle = await open(file, "r").catch((error: unknown) => rethrowFileError(file, error));
  try {
    let carry = new Uint8Array(0);
    let position = 0;
    for (;;) {
      signal?.throwIfAborted();
      // A line longer than a chunk doubles the read, so a huge line costs linear, not quadratic, time.
      const readSize = Math.max(chunkBytes, carry.length);
      const buffer = new Uint8Array(new ArrayBuffer(carry.length + readSize));
      buffer.set(carry);
      const { bytesRead } = await handle
        .read(buffer, carry.length, readSize, position)
        .catch((error: unknown) => rethrowFileError(file, error));
      const filled = carry.length + bytesRead;
      const offset = position - carry.length;
      position += bytesRead;
      if (bytesRead === 0) {
        if (filled > 0) {
          yield { bytes: buffer.subarray(0, filled), offset, length: filled };
        }
        return;
      }
      const lastNewline = buffer.lastIndexOf(0x0a, filled - 1);
      if (lastNewline === -1) {
        carry = buffer.subarray(0, filled);
        continue;
      }
      carry = buffer.slice(lastNewline + 1, filled);
      yield { bytes: buffer.subarray(0, lastNewline + 1), offset, length: lastNewline + 1 };
    }
  } finally {
    await handle.close();
  }
}

/** Source of a counting worker: the self-contained functions of `word-counter.ts`, as text. */
function workerSource(): string {
  // `__name` guards against transpilers that wrap functions to keep their names.
  return [
    "var __name = (target) => target;",
    'const { parentPort, workerData } = require("node:worker_threads");',
    `(${wordCountWorkerMain.toString()})(parentPort, workerData, ${createWordCounter.toString()});`,
  ].join("\n");
}

interface PendingChunk {
  file: string;
  offset: number;
}

/** Worker threads counting line chunks; `send` waits while every worker has its queue full. */
class CountingPool {
  private readonly workers: Worker[] = [];
  private readonly queued: number[] = [];
  private readonly pending = new Map<number, PendingChunk>();
  private nextId = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly finishing: Array<(counts: Map<string, number>) => void> = [];
  private onFailure: ((error: Error) => void) | null = null;

  constructor(count: number) {
    const source = workerSource();
    for (let index = 0; index < count; index++) {
      const worker = new Worker(source, {
        eval: true,
        workerData: { source: GPT2_SPLIT_PATTERN.source, flags: GPT2_SPLIT_PATTERN.flags },
      });
      worker.on("message", (reply: WordCountReply) => this.onReply(index, reply));
      worker.on("error", (error) => this.fail(error));
      this.workers.push(worker);
      this.queued.push(0);
    }
  }

  /** Hands `bytes` (whole lines) to the least busy worker, transferring its buffer. */
  async send(bytes: Uint8Array, file: string, offset: number): Promise<void> {
    for (;;) {
      this.throwIfFailed();
      const index = this.leastBusy();
      if ((this.queued[index] as number) < QUEUED_PER_WORKER) {
        const id = this.nextId++;
        this.pending.set(id, { file, offset });
        this.queued[index] = (this.queued[index] as number) + 1;
        const buffer = bytes.buffer as ArrayBuffer;
        const request: WordCountRequest = { type: "lines", id, buffer, length: bytes.length };
        (this.workers[index] as Worker).postMessage(request, [buffer]);
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Waits for every chunk and returns each worker's counts. */
  async finish(): Promise<Array<Map<string, number>>> {
    const counts = this.workers.map(
      (worker, index) =>
        new Promise<Map<string, number>>((resolve) => {
          this.finishing[index] = resolve;
          const request: WordCountRequest = { type: "finish" };
          worker.postMessage(request);
        }),
    );
    const failed = new Promise<never>((_, reject) => {
      this.onFailure = reject;
    });
    failed.catch(() => undefined); // a failure after the counts arrived has nobody left to tell
    this.throwIfFailed();
    return Promise.race([Promise.all(counts), failed]);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private onReply(index: number, reply: WordCountReply): void {
    if (reply.type === "counts") {
      this.finishing[index]?.(reply.counts);
      return;
    }
    this.queued[index] = (this.queued[index] as number) - 1;
    const chunk = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.type === "error") {
      this.fail(notUtf8(chunk?.file ?? "<unknown>", chunk?.offset ?? 0, new TypeError(reply.message)));
      return;
    }
    this.wakeSender();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.onFailure?.(this.failure);
    this.wakeSender();
  }

  private wakeSender(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private throwIfFailed(): void {
    if (this.failure !== null) {
      throw this.failure;
    }
  }

  private leastBusy(): number {
    let best = 0;
    for (let index = 1; index < this.queued.length; index++) {
      if ((this.queued[index] as number) < (this.queued[best] as number)) {
        best = index;
      }
    }
    return best;
  }
}
