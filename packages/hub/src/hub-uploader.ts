import type { CheckpointScheduleParams } from "@pythia/core";
import pLimit from "p-limit";
import { hubError } from "./hub-client.js";
import { readLocalCheckpoint, type LocalCheckpoint } from "./local-checkpoint.js";
import { runCardInfo } from "./push-run.js";
import { PushSession } from "./push-session.js";
import type { PushEvent, PushOptions, PushSummary, RevisionPushResult } from "./push-types.js";

/** Parameters of `HubUploader`. */
export interface HubUploaderParams extends PushOptions {
  /** The run directory, for `run.json` (schedule, data) in the model card. Optional. */
  runDir?: string;
  schedule?: CheckpointScheduleParams;
  /** Commit the largest drained step to `main` too. @default true */
  final?: boolean;
  onEvent?: (event: PushEvent) => void;
}

/**
 * Uploads checkpoints in the background while training goes on: `enqueue(stepDir)` right after a
 * checkpoint is written, `drain()` at the end to wait for every upload, update `main` and get the
 * verification summary. At most `concurrency` revisions upload at once; failures surface in `drain()`.
 */
export class HubUploader {
  private readonly session: PushSession;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly pending: Array<Promise<{ result: RevisionPushResult; checkpoint: LocalCheckpoint }>> = [];

  constructor(private readonly params: HubUploaderParams) {
    this.session = new PushSession(params, (event) => params.onEvent?.(event));
    this.limit = pLimit(params.concurrency ?? 2);
  }

  /** Queues a `step{N}` directory for upload; returns at once. */
  enqueue(stepDir: string): void {
    const task = this.limit(async () => {
      const checkpoint = await readLocalCheckpoint({ dir: stepDir });
      return { result: await this.session.pushCheckpoint(checkpoint), checkpoint };
    });
    // Failures are reported by drain(); keep them from being unhandled meanwhile.
    task.catch(() => undefined);
    this.pending.push(task);
  }

  /** Number of queued or running uploads. */
  get size(): number {
    return this.limit.activeCount + this.limit.pendingCount;
  }

  /** Waits for every queued upload, updates `main`, and returns the verification summary. */
  async drain(): Promise<PushSummary> {
    const settled = await Promise.allSettled(this.pending);
    const failed = settled.find((outcome) => outcome.status === "rejected");
    if (failed) {
      throw hubError(failed.reason, `uploading to ${this.params.repo}`, this.params.signal);
    }
    const done = settled
      .map(
        (outcome) =>
          (outcome as PromiseFulfilledResult<{ result: RevisionPushResult; checkpoint: LocalCheckpoint }>)
            .value,
      )
      .sort((a, b) => a.result.step - b.result.step);
    const run = this.params.runDir ? runCardInfo(this.params.runDir) : { schedule: null, data: null };
    try {
      const main = await this.session.updateMain({
        results: done.map((item) => item.result),
        final: this.params.final === false ? null : (done.at(-1)?.checkpoint ?? null),
        schedule: this.params.schedule ?? run.schedule,
        data: run.data,
      });
      return { repo: this.session.hub.repo, revisions: done.map((item) => item.result), main };
    } catch (error) {
      throw hubError(error, `updating ${this.params.repo}@main`, this.params.signal);
    }
  }
}
