/**
 * The scoring engine: tokenizes each distinct request once (context and continuation separately, as
 * harness v0.3.0 does; an empty context becomes the EOT token), left-truncates to the model's context,
 * sorts by length (longest first, like the harness's reorderer) and batches; requests that share a
 * long context have its keys and values computed once. Reports progress and resumes from a cache.
 */
import type { Tokenizer } from "@pythia/tokenizer";
import { EvalError } from "./eval-errors.js";
import { requestKey, type ScoreCache } from "./score-cache.js";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "./task.js";
import type { LoglikelihoodModel, RowScore, ScoreRow } from "./tfjs-loglikelihood-model.js";

/** Progress of `scoreRequests`, after each batch. */
export interface ScoreProgressEvent {
  type: "score-progress";
  /** Distinct requests scored or found in the cache so far. */
  done: number;
  /** Distinct requests in this call. */
  total: number;
  /** Of `done`, how many came from the cache. */
  cached: number;
  /** Model input tokens processed so far (cache hits excluded). */
  tokens: number;
  elapsedSeconds: number;
  requestsPerSecond: number;
  tokensPerSecond: number;
  /** Estimated seconds left at the current rate (null before the first batch). */
  etaSeconds: number | null;
}

/** Parameters of `scoreRequests`. */
export interface ScoreRequestsParams {
  model: LoglikelihoodModel;
  tokenizer: Pick<Tokenizer, "encode">;
  requests: readonly LoglikelihoodRequest[];
  /** Rows per forward pass for requests without a shared context. @default 16 */
  batchSize?: number;
  /** Score requests sharing a context after computing that context once. @default true */
  reusePrefixes?: boolean;
  /** Shared contexts shorter than this many tokens are not worth a separate pass. @default 8 */
  minPrefixTokens?: number;
  /** Resume from and record to this cache. */
  cache?: ScoreCache;
  /** End-of-text id, used as the context of requests with an empty context. @default 0 */
  eotTokenId?: number;
  onProgress?: (event: ScoreProgressEvent) => void;
  signal?: AbortSignal;
}

/** Request scores, in the order of `requests`. */
export interface ScoredRequest extends LoglikelihoodResult {
  /** Per continuation token (absent for cache hits). */
  tokenLogprobs?: number[];
  greedyIds?: number[];
}

interface Pending {
  key: string;
  contextIds: number[];
  continuationIds: number[];
  /** (context + continuation)[-(maxLength + 1):][:-1] */
  input: number[];
  truncated: boolean;
}

type Unit = { kind: "rows"; items: Pending[] } | { kind: "prefix"; prefix: number[]; items: Pending[] };

/** Scores loglikelihood requests; identical requests are scored once. */
export async function scoreRequests(params: ScoreRequestsParams): Promise<ScoredRequest[]> {
  const { model, tokenizer, cache } = params;
  const batchSize = params.batchSize ?? 16;
  const eot = params.eotTokenId ?? 0;
  const keys = params.requests.map(requestKey);
  const results = new Map<string, ScoredRequest>();
  const pending = new Map<string, Pending>();
  let cached = 0;
  params.requests.forEach((request, i) => {
    const key = keys[i] as string;
    if (results.has(key) || pending.has(key)) {
      return;
    }
    const hit = cache?.get(key);
    if (hit !== undefined) {
      results.set(key, hit);
      cached++;
      return;
    }
    const contextIds = request.context === "" ? [eot] : tokenizer.encode(request.context);
    const continuationIds = tokenizer.encode(request.continuation);
    if (continuationIds.length === 0) {
      throw new EvalError("REQUEST", `request ${i} has an empty continuation ("${request.continuation}")`);
    }
    if (continuationIds.length > model.maxLength) {
      throw new EvalError(
        "REQUEST",
        `request ${i}: the continuation has ${continuationIds.length} tokens, more than the model's context (${model.maxLength})`,
      );
    }
    const whole = [...contextIds, ...continuationIds];
    const kept = whole.slice(-(model.maxLength + 1));
    pending.set(key, {
      key,
      contextIds,
      continuationIds,
      input: kept.slice(0, -1),
      truncated: kept.length < whole.length,
    });
  });

  // Group by shared context where that pays; the rest go to length-sorted batches.
  const units: Unit[] = [];
  const singles: Pending[] = [];
  if (params.reusePrefixes ?? true) {
    const groups = new Map<string, Pending[]>();
    for (const item of pending.values()) {
      if (item.truncated || item.contextIds.length - 1 < (params.minPrefixTokens ?? 8)) {
        singles.push(item);
        continue;
      }
      const groupKey = item.contextIds.join(",");
      const group = groups.get(groupKey);
      if (group === undefined) {
        groups.set(groupKey, [item]);
      } else {
        group.push(item);
      }
    }
    for (const group of groups.values()) {
      if (group.length < 2) {
        singles.push(...group);
      } else {
        units.push({ kind: "prefix", prefix: (group[0] as Pending).contextIds.slice(0, -1), items: group });
      }
    }
  } else {
    singles.push(...pending.values());
  }
  // The harness's reorderer: longest first, ties by tokens.
  singles.sort((a, b) => b.input.length - a.input.length || compareIds(a.input, b.input));
  for (let i = 0; i < singles.length; i += batchSize) {
    units.push({ kind: "rows", items: singles.slice(i, i + batchSize) });
  }
  const unitLength = (unit: Unit) =>
    unit.kind === "rows"
      ? (unit.items[0] as Pending).input.length
      : unit.prefix.length + Math.max(...unit.items.map((item) => item.continuationIds.length));
  units.sort((a, b) => unitLength(b) - unitLength(a));

  const total = results.size + pending.size;
  const started = performance.now();
  let done = results.size;
  let tokens = 0;
  let scoredNow = 0;
  if (units.length === 0) {
    params.onProgress?.({
      type: "score-progress",
      done,
      total,
      cached,
      tokens: 0,
      elapsedSeconds: 0,
      requestsPerSecond: 0,
      tokensPerSecond: 0,
      etaSeconds: 0,
    });
  }
  for (const unit of units) {
    params.signal?.throwIfAborted();
    let scores: RowScore[];
    if (unit.kind === "prefix" && model.scoreRowsAfterPrefix !== undefined) {
      const last = unit.prefix.length; // index of the context's last token
      const rows: ScoreRow[] = unit.items.map((item) => ({
        input: [item.contextIds[last] as number, ...item.continuationIds.slice(0, -1)],
        continuation: item.continuationIds,
      }));
      scores = await model.scoreRowsAfterPrefix(unit.prefix, rows);
      tokens += unit.prefix.length + rows.reduce((sum, row) => sum + row.input.length, 0);
    } else {
      const rows: ScoreRow[] = unit.items.map((item) => ({
        input: item.input,
        continuation: item.continuationIds,
      }));
      scores = await model.scoreRows(rows);
      tokens += rows.reduce((sum, row) => sum + row.input.length, 0);
    }
    const scored = unit.items.map((item, i) => {
      const score = scores[i] as RowScore;
      results.set(item.key, score);
      return { key: item.key, result: { ll: score.ll, isGreedy: score.isGreedy } };
    });
    cache?.add(scored);
    done += unit.items.length;
    scoredNow += unit.items.length;
    const elapsedSeconds = (performance.now() - started) / 1000;
    const requestsPerSecond = scoredNow / Math.max(elapsedSeconds, 1e-9);
    params.onProgress?.({
      type: "score-progress",
      done,
      total,
      cached,
      tokens,
      elapsedSeconds,
      requestsPerSecond,
      tokensPerSecond: tokens / Math.max(elapsedSeconds, 1e-9),
      etaSeconds: requestsPerSecond > 0 ? (total - done) / requestsPerSecond : null,
    });
  }
  return keys.map((key) => results.get(key) as ScoredRequest);
}

function compareIds(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return (a[i] as number) - (b[i] as number);
    }
  }
  return a.length - b.length;
}
