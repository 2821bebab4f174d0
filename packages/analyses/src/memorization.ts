/**
 * Memorization (Biderman et al. 2023; Pythia §Memorization): prompt with the first k = 32 tokens of a
 * training row, greedily generate ℓ = 32 with the end-of-document token banned (HF `min_length`), and
 * score the fraction of generated tokens equal to the row's true continuation; memorized iff 1.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync, fstatSync, ftruncateSync } from "node:fs";
import { drain } from "@pythia/core";
import type { GPTNeoXModel } from "@pythia/model";
import { AnalysisError } from "./analysis-errors.js";
import { greedyDecodeBatch } from "./greedy-batch.js";

/**
 * Greedy continuations of equal-length prompts: returns `length` new ids per prompt. Injectable, so
 * that a fake model (one that copies its input, one that never does) can stand in for a network.
 */
export type GreedyContinuation = (prompts: readonly Int32Array[], length: number) => Promise<Int32Array[]>;

/** Memorization score: the fraction of positions where `generated` equals `truth` (HF-style, position-wise). */
export function memorizationScore(generated: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (truth.length === 0) {
    throw new AnalysisError("INPUT", "memorizationScore: the true continuation is empty");
  }
  let matches = 0;
  for (let i = 0; i < truth.length; i++) {
    if (generated[i] === truth[i]) {
      matches++;
    }
  }
  return matches / truth.length;
}

/**
 * Batched greedy decoding with a key/value cache, HF `generate(..., do_sample=False, min_length)`:
 * the end-of-sequence token is banned while prompt + generated tokens are fewer than `minLength`
 * (default: prompt + length, i.e. never emitted, as in Pythia's memorization evaluation).
 */
export function modelGreedyContinuation(
  model: GPTNeoXModel,
  options: { eosTokenId?: number | null; minLength?: number } = {},
): GreedyContinuation {
  const eos = options.eosTokenId === undefined ? model.config.eosTokenId : options.eosTokenId;
  return async (prompts, length) => {
    const T = prompts[0]?.length ?? 0;
    const generated = await greedyDecodeBatch({
      model,
      prompts,
      maxNewTokens: length,
      eosTokenId: eos,
      minLength: options.minLength ?? T + length,
    });
    return generated.map((ids) => Int32Array.from(ids));
  };
}

/** Header of a scores file: `PYMEMSC1`, then uint32 LE start, uint8 k, uint8 ℓ, 2 reserved bytes. */
export const SCORES_MAGIC = "PYMEMSC1";
const HEADER_BYTES = 16;

/** A scores file: one byte per sequence (the number of matching tokens, 0…ℓ), sequences start, start+1, … */
export interface MemorizationScores {
  start: number;
  promptLength: number;
  continuationLength: number;
  /** Matching tokens per sequence. */
  matches: Uint8Array;
}

/** Reads a scores file written by `memorizationIter`. */
export function readScoresFile(path: string): MemorizationScores {
  if (!existsSync(path)) {
    throw new AnalysisError(
      "DATA_MISSING",
      `${path}: no such scores file; write one with memorization first`,
    );
  }
  const bytes = readFileSync(path);
  if (bytes.length < HEADER_BYTES || bytes.subarray(0, 8).toString("latin1") !== SCORES_MAGIC) {
    throw new AnalysisError(
      "SCORES_FORMAT",
      `${path}: not a memorization scores file (expected the ${SCORES_MAGIC} header)`,
    );
  }
  return {
    start: bytes.readUInt32LE(8),
    promptLength: bytes.readUInt8(12),
    continuationLength: bytes.readUInt8(13),
    matches: new Uint8Array(bytes.subarray(HEADER_BYTES)),
  };
}

/** Parameters of `memorization` / `memorizationIter`. */
export interface MemorizationParams {
  /** Training rows `[start, start + count)`, each at least k + ℓ tokens (e.g. `TrainingRun.rows`). */
  rows: (start: number, count: number) => Int32Array[];
  /** First sequence (training-order row index). */
  start: number;
  count: number;
  continuation: GreedyContinuation;
  /** Prompt tokens k. @default 32 */
  promptLength?: number;
  /** Generated tokens ℓ. @default 32 */
  continuationLength?: number;
  /** Sequences per generation batch. @default 16 */
  batchSize?: number;
  /**
   * Streams per-sequence results to this file (one byte each) and resumes from it: sequences
   * already in the file are not generated again.
   */
  scoresFile?: string;
  signal?: AbortSignal;
}

/** Progress of a memorization pass. */
export type MemorizationEvent = {
  type: "batch-scored";
  /** Sequences scored so far (resumed ones included). */
  done: number;
  count: number;
  memorized: number;
};

/** What a memorization pass returns. */
export interface MemorizationResult {
  start: number;
  count: number;
  promptLength: number;
  continuationLength: number;
  /** Score per sequence (fraction of matching tokens). */
  scores: number[];
  memorizedCount: number;
  /** Mean score. */
  meanScore: number;
  /** Sequences taken from an existing scores file. */
  resumed: number;
}

/** Scores sequences batch by batch, yielding progress; resumable through `scoresFile`. */
export async function* memorizationIter(
  params: MemorizationParams,
): AsyncGenerator<MemorizationEvent, MemorizationResult> {
  const k = params.promptLength ?? 32;
  const l = params.continuationLength ?? 32;
  const batchSize = params.batchSize ?? 16;
  if (l < 1 || l > 255 || k < 1 || k > 255) {
    throw new AnalysisError("INPUT", `memorization: k and ℓ must be in [1, 255], got k=${k}, ℓ=${l}`);
  }
  const matches = new Uint8Array(params.count);
  let done = 0;
  let fd: number | null = null;
  if (params.scoresFile !== undefined) {
    if (existsSync(params.scoresFile)) {
      const previous = readScoresFile(params.scoresFile);
      if (
        previous.start !== params.start ||
        previous.promptLength !== k ||
        previous.continuationLength !== l
      ) {
        throw new AnalysisError(
          "SCORES_FORMAT",
          `${params.scoresFile}: holds start=${previous.start}, k=${previous.promptLength}, ℓ=${previous.continuationLength}, not start=${params.start}, k=${k}, ℓ=${l}; choose another output or delete it`,
        );
      }
      done = Math.min(previous.matches.length, params.count);
      matches.set(previous.matches.subarray(0, done));
      fd = openSync(params.scoresFile, "r+");
      ftruncateSync(fd, HEADER_BYTES + done);
    } else {
      fd = openSync(params.scoresFile, "w");
      const header = Buffer.alloc(HEADER_BYTES);
      header.write(SCORES_MAGIC, 0, "latin1");
      header.writeUInt32LE(params.start, 8);
      header.writeUInt8(k, 12);
      header.writeUInt8(l, 13);
      writeSync(fd, header);
    }
  }
  const resumed = done;
  let memorized = 0;
  for (let i = 0; i < done; i++) {
    memorized += matches[i] === l ? 1 : 0;
  }
  try {
    while (done < params.count) {
      params.signal?.throwIfAborted();
      const n = Math.min(batchSize, params.count - done);
      const rows = params.rows(params.start + done, n);
      for (const [i, row] of rows.entries()) {
        if (row.length < k + l) {
          throw new AnalysisError(
            "INPUT",
            `memorization: sequence ${params.start + done + i} has ${row.length} tokens, fewer than k + ℓ = ${k + l}`,
          );
        }
      }
      const generated = await params.continuation(
        rows.map((row) => row.subarray(0, k)),
        l,
      );
      for (let i = 0; i < n; i++) {
        const score = memorizationScore(
          generated[i] as Int32Array,
          (rows[i] as Int32Array).subarray(k, k + l),
        );
        const count = Math.round(score * l);
        matches[done + i] = count;
        memorized += count === l ? 1 : 0;
      }
      if (fd !== null) {
        writeSync(fd, matches.subarray(done, done + n), 0, n, HEADER_BYTES + done);
      }
      done += n;
      yield { type: "batch-scored", done, count: params.count, memorized };
    }
  } finally {
    if (fd !== null) {
      if (fstatSync(fd).size > HEADER_BYTES + params.count) {
        ftruncateSync(fd, HEADER_BYTES + params.count);
      }
      closeSync(fd);
    }
  }
  const scores = Array.from(matches, (m) => m / l);
  return {
    start: params.start,
    count: params.count,
    promptLength: k,
    continuationLength: l,
    scores,
    memorizedCount: memorized,
    meanScore: scores.length === 0 ? 0 : scores.reduce((a, b) => a + b, 0) / scores.length,
    resumed,
  };
}

/** Drains `memorizationIter`. */
export async function memorization(
  params: MemorizationParams & { onEvent?: (event: MemorizationEvent) => void },
): Promise<MemorizationResult> {
  return drain(memorizationIter(params), params.onEvent);
}

/** Memorized flags (score = 1) of a scores file. */
export function memorizedFlags(scores: MemorizationScores): Uint8Array {
  return scores.matches.map((m) => (m === scores.continuationLength ? 1 : 0));
}
