/**
 * A JSONL cache of request scores per (model revision, request), so that an interrupted run resumes
 * where it stopped. One line per scored request: `{"rev", "key", "ll", "greedy"}`, appended after each
 * batch; a torn last line (a crash mid-write) is ignored.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { sha256Hex } from "@pythia/core";
import type { LoglikelihoodRequest, LoglikelihoodResult } from "./task.js";

interface CacheLine {
  rev: string;
  key: string;
  ll: number;
  greedy: boolean;
}

/** The cache key of a request: sha256 of its context and continuation strings. */
export function requestKey(request: LoglikelihoodRequest): string {
  return sha256Hex(`${request.context}\u0000${request.continuation}`);
}

/** Scores of one model revision, backed by an append-only JSONL file. */
export class ScoreCache {
  readonly path: string;
  readonly revision: string;
  private readonly entries = new Map<string, LoglikelihoodResult>();

  /** Opens (or starts) the cache file and loads the lines of `revision`. */
  constructor(params: { path: string; revision: string }) {
    this.path = params.path;
    this.revision = params.revision;
    if (existsSync(this.path)) {
      for (const line of readFileSync(this.path, "utf8").split("\n")) {
        if (line.trim() === "") {
          continue;
        }
        let parsed: CacheLine;
        try {
          parsed = JSON.parse(line) as CacheLine;
        } catch {
          continue; // a line torn by an interrupted write
        }
        if (parsed.rev === this.revision && typeof parsed.ll === "number") {
          this.entries.set(parsed.key, { ll: parsed.ll, isGreedy: parsed.greedy === true });
        }
      }
    }
  }

  /** Cached entries of this revision. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): LoglikelihoodResult | undefined {
    return this.entries.get(key);
  }

  /** Records scores and appends them to the file. */
  add(scored: ReadonlyArray<{ key: string; result: LoglikelihoodResult }>): void {
    if (scored.length === 0) {
      return;
    }
    mkdirSync(dirname(this.path), { recursive: true });
    let text = "";
    for (const { key, result } of scored) {
      this.entries.set(key, result);
      text += `${JSON.stringify({ rev: this.revision, key, ll: result.ll, greedy: result.isGreedy })}\n`;
    }
    appendFileSync(this.path, text);
  }
}
