import { drain, type CheckpointScheduleParams } from "@pythia/core";
import { readRunJsonIfExists } from "@pythia/core/run";
import pLimit from "p-limit";
import { eventChannel } from "./event-channel.js";
import { hubError } from "./hub-client.js";
import { HubSyncError } from "./hub-errors.js";
import { readLocalCheckpoint, scanCheckpointDirs, type LocalCheckpoint } from "./local-checkpoint.js";
import { PushSession } from "./push-session.js";
import type { PushEvent, PushOptions, PushSummary, RevisionPushResult } from "./push-types.js";

/** What the model card shows of a run: its checkpoint schedule and its data, as `run.json` stores them. */
export function runCardInfo(runDir: string): {
  schedule: CheckpointScheduleParams | null;
  data: Record<string, unknown> | null;
} {
  const run = readRunJsonIfExists({ dir: runDir });
  if (run === null) {
    return { schedule: null, data: null };
  }
  const { steps, checkpointEvery, logSpacedUpTo } = run.config;
  return {
    schedule: { steps, every: checkpointEvery, ...(logSpacedUpTo === undefined ? {} : { logSpacedUpTo }) },
    data: run.stored.data,
  };
}

/** Parameters of `pushRunIter`. */
export interface PushRunParams extends PushOptions {
  /** A run directory written by `@pythia/trainer`: `run.json`, `step{N}/`. */
  dir: string;
  /** Also commit the largest step's files to `main`. @default true */
  final?: boolean;
  /** The schedule `verify` expects. @default read from `run.json` */
  schedule?: CheckpointScheduleParams;
}

/**
 * Verifies every checkpoint of a run against its manifest (sha256), then pushes them, `concurrency`
 * revisions at a time, each to its `step{N}` branch, verified; then the model card, `revisions.json`
 * and the final checkpoint to `main`. A damaged checkpoint stops the push before anything is uploaded.
 * Re-running skips verified revisions and finishes interrupted ones.
 */
export function pushRunIter(params: PushRunParams): AsyncGenerator<PushEvent, PushSummary> {
  return eventChannel(async (emit) => {
    const run = runCardInfo(params.dir);
    // Every checkpoint is verified (sha256 against its manifest, one file at a time) before anything
    // is uploaded, so a damaged one stops the push before the repository is touched.
    const checkpoints: LocalCheckpoint[] = [];
    const { dirs, skipped } = scanCheckpointDirs(params.dir);
    for (const item of skipped) {
      emit({ type: "checkpoint-skipped", dir: item.dir, reason: item.reason });
    }
    for (const dir of dirs) {
      checkpoints.push(await readLocalCheckpoint({ dir }));
    }
    if (checkpoints.length === 0) {
      throw new HubSyncError(
        "INPUT",
        `${params.dir} holds no complete step{N} checkpoint (a directory with a manifest.json)`,
      );
    }
    // The first failure stops the other revisions (queued ones never start, running ones abort).
    const stop = new AbortController();
    const signal = params.signal ? AbortSignal.any([params.signal, stop.signal]) : stop.signal;
    const session = new PushSession({ ...params, signal }, emit);
    try {
      await session.ready();
      const limit = pLimit(params.concurrency ?? 2);
      let firstError: unknown;
      const outcomes = await Promise.allSettled(
        checkpoints.map((checkpoint) =>
          limit(async () => {
            stop.signal.throwIfAborted();
            try {
              return await session.pushCheckpoint(checkpoint);
            } catch (error) {
              if (!stop.signal.aborted) {
                firstError = error;
                stop.abort(error);
              }
              throw error;
            }
          }),
        ),
      );
      if (firstError !== undefined || outcomes.some((outcome) => outcome.status === "rejected")) {
        throw (
          firstError ??
          (outcomes.find((outcome) => outcome.status === "rejected") as PromiseRejectedResult).reason
        );
      }
      const results = outcomes.map(
        (outcome) => (outcome as PromiseFulfilledResult<RevisionPushResult>).value,
      );
      const main = await session.updateMain({
        results,
        final: params.final === false ? null : (checkpoints.at(-1) ?? null),
        schedule: params.schedule ?? run.schedule,
        data: run.data,
      });
      return { repo: session.hub.repo, revisions: results, main };
    } catch (error) {
      throw hubError(error, `pushing ${params.dir} to ${params.repo}`, params.signal);
    }
  });
}

/** `pushRunIter` drained; events go to `onEvent`. */
export function pushRun(
  params: PushRunParams & { onEvent?: (event: PushEvent) => void },
): Promise<PushSummary> {
  return drain(pushRunIter(params), params.onEvent);
}
