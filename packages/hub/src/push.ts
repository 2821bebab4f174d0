import { createHash } from "node:crypto";
import { existsSync, openAsBlob, readFileSync } from "node:fs";
import { join } from "node:path";
import { commitIter, downloadFile, type CommitOperation } from "@huggingface/hub";
import { drain } from "@pythia/core";
import pLimit from "p-limit";
import { revisionName, type CheckpointSchedule } from "./checkpoint-schedule.js";
import { eventChannel } from "./event-channel.js";
import { gitBlobOidFile } from "./file-hash.js";
import {
  ensureBranch,
  ensureRepo,
  hubError,
  listBranches,
  listRevisionFiles,
  resolveConnection,
  type HubConnection,
  type ResolvedConnection,
} from "./hub-client.js";
import { HubSyncError } from "./hub-errors.js";
import { listCheckpointDirs, readLocalCheckpoint, type LocalCheckpoint } from "./local-checkpoint.js";
import { modelCard } from "./model-card.js";
import { checkRevision, type ExpectedFile, type RevisionCheck } from "./revision-check.js";
import {
  formatRevisionsManifest,
  parseRevisionsManifest,
  REVISIONS_MANIFEST,
  type RevisionEntry,
  type RevisionsManifest,
} from "./revisions-manifest.js";

/** Options shared by every push entry point. */
export interface PushOptions extends HubConnection {
  /** Revisions uploaded at once. @default 2 */
  concurrency?: number;
  /** Upload with the xet protocol instead of LFS basic transfer. @default false */
  useXet?: boolean;
  /** Create the repository as private when it does not exist. @default false */
  private?: boolean;
}

/** Events of a push (`<noun>-<verb>`); only apps print them. */
export type PushEvent =
  | { type: "repo-created"; repo: string }
  | { type: "revision-start"; revision: string; step: number; files: number; bytes: number }
  | { type: "revision-skipped"; revision: string; step: number; commit: string }
  | { type: "revision-committed"; revision: string; step: number; commit: string; files: string[] }
  | { type: "revision-verified"; revision: string; step: number; commit: string }
  | { type: "main-updated"; commit: string; final: string | null }
  | {
      type: "upload-progress";
      /** Bytes uploaded (or found already uploaded) so far, over `totalBytes` of the revisions started. */
      bytes: number;
      totalBytes: number;
      files: number;
      totalFiles: number;
      revisions: number;
      totalRevisions: number;
    };

/** What happened to one revision. */
export interface RevisionPushResult {
  revision: string;
  step: number;
  /** The branch's commit after verification. */
  commit: string;
  /** `uploaded`: new branch; `resumed`: the branch existed but was incomplete; `skipped`: already verified. */
  status: "uploaded" | "resumed" | "skipped";
  check: RevisionCheck;
  files: LocalCheckpoint["files"];
}

/** The verification summary of a push. */
export interface PushSummary {
  repo: string;
  /** Ascending by step. */
  revisions: RevisionPushResult[];
  /** The `main` commit carrying the model card, `revisions.json` and the final checkpoint; null when not updated. */
  main: { commit: string; final: string | null; changed: boolean } | null;
}

const SMALL_FILE = 64 * 1024 * 1024;

async function expectedFiles(checkpoint: LocalCheckpoint): Promise<ExpectedFile[]> {
  return Promise.all(
    checkpoint.files.map(async (file) => ({
      ...file,
      ...(file.bytes < SMALL_FILE
        ? { gitOid: await gitBlobOidFile(join(checkpoint.dir, file.path), file.bytes) }
        : {}),
    })),
  );
}

function gitOidOfText(text: string): string {
  const bytes = Buffer.from(text);
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** Tracks bytes, files and revisions across concurrent uploads for `upload-progress` events. */
class ProgressTracker {
  private readonly done = new Map<string, { bytes: number; size: number }>();
  private totalBytes = 0;
  private totalFiles = 0;
  private revisions = 0;
  private totalRevisions = 0;

  constructor(private readonly emit: (event: PushEvent) => void) {}

  addRevision(checkpoint: LocalCheckpoint): void {
    this.totalRevisions++;
    for (const file of checkpoint.files) {
      this.done.set(`${checkpoint.step}/${file.path}`, { bytes: 0, size: file.bytes });
      this.totalBytes += file.bytes;
      this.totalFiles++;
    }
    this.report();
  }

  file(step: number, path: string, fraction: number): void {
    const entry = this.done.get(`${step}/${path}`);
    if (entry === undefined) {
      return;
    }
    const bytes = Math.round(entry.size * Math.min(1, fraction));
    if (bytes > entry.bytes) {
      entry.bytes = bytes;
      this.report();
    }
  }

  revisionDone(checkpoint: LocalCheckpoint): void {
    for (const file of checkpoint.files) {
      const entry = this.done.get(`${checkpoint.step}/${file.path}`);
      if (entry !== undefined) {
        entry.bytes = entry.size;
      }
    }
    this.revisions++;
    this.report();
  }

  private report(): void {
    let bytes = 0;
    let files = 0;
    for (const entry of this.done.values()) {
      bytes += entry.bytes;
      files += entry.bytes === entry.size ? 1 : 0;
    }
    this.emit({
      type: "upload-progress",
      bytes,
      totalBytes: this.totalBytes,
      files,
      totalFiles: this.totalFiles,
      revisions: this.revisions,
      totalRevisions: this.totalRevisions,
    });
  }
}

/** One push session: a resolved connection, the branches seen, progress. */
class PushSession {
  readonly hub: ResolvedConnection;
  private branches: Map<string, string> | null = null;
  private repoReady: Promise<void> | null = null;
  readonly progress: ProgressTracker;

  constructor(
    readonly options: PushOptions,
    readonly emit: (event: PushEvent) => void,
  ) {
    this.hub = resolveConnection(options);
    this.progress = new ProgressTracker(emit);
  }

  /** Creates the repository when missing and reads its branches, once. */
  ready(): Promise<void> {
    this.repoReady ??= (async () => {
      if (await ensureRepo(this.hub, { private: this.options.private ?? false })) {
        this.emit({ type: "repo-created", repo: this.hub.repo });
      }
      const branches = await listBranches(this.hub);
      this.branches = new Map((branches ?? []).map((branch) => [branch.name, branch.commit]));
    })();
    return this.repoReady;
  }

  private async commit(
    branch: string,
    step: number | null,
    title: string,
    operations: CommitOperation[],
  ): Promise<string> {
    try {
      const iterator = commitIter({
        repo: this.hub.repo,
        branch,
        title,
        operations,
        hubUrl: this.hub.hubUrl,
        accessToken: this.hub.accessToken,
        fetch: this.hub.fetch,
        useXet: this.options.useXet ?? false,
        ...(this.hub.signal ? { abortSignal: this.hub.signal } : {}),
      });
      const result = await drain(iterator, (event) => {
        if (step !== null && event.event === "fileProgress" && event.state === "uploading") {
          this.progress.file(step, event.path, event.progress);
        }
      });
      const commit = result?.commit.oid;
      if (!commit) {
        throw new HubSyncError(
          "REMOTE",
          `committing to ${this.hub.repo}@${branch}: the Hub returned no commit id`,
        );
      }
      return commit;
    } catch (error) {
      throw hubError(error, `committing to ${this.hub.repo}@${branch}`, this.hub.signal);
    }
  }

  /** Uploads one checkpoint to `step{N}` (resuming or skipping), then verifies it against its manifest. */
  async pushCheckpoint(checkpoint: LocalCheckpoint): Promise<RevisionPushResult> {
    await this.ready();
    const revision = revisionName(checkpoint.step);
    const step = checkpoint.step;
    this.progress.addRevision(checkpoint);
    this.emit({
      type: "revision-start",
      revision,
      step,
      files: checkpoint.files.length,
      bytes: checkpoint.files.reduce((sum, file) => sum + file.bytes, 0),
    });
    const expected = await expectedFiles(checkpoint);
    const existed = this.branches?.has(revision) ?? false;
    let check: RevisionCheck | null = null;
    if (existed) {
      check = checkRevision(revision, expected, await listRevisionFiles(this.hub, revision));
      if (check.ok) {
        const commit = this.branches?.get(revision) ?? "";
        this.progress.revisionDone(checkpoint);
        this.emit({ type: "revision-skipped", revision, step, commit });
        return { revision, step, commit, status: "skipped", check, files: checkpoint.files };
      }
    } else {
      // An empty branch: created from main it would serve main's (final) weights until the commit lands.
      await ensureBranch(this.hub, revision);
    }
    let commit = "";
    for (let attempt = 0; ; attempt++) {
      const todo =
        check === null ? expected : expected.filter((file) => !isGood(check as RevisionCheck, file.path));
      const extra = check?.extraFiles ?? [];
      const operations: CommitOperation[] = [
        ...(await Promise.all(
          todo.map(async (file) => ({
            operation: "addOrUpdate" as const,
            path: file.path,
            content: await openAsBlob(join(checkpoint.dir, file.path)),
          })),
        )),
        ...extra.map((path) => ({ operation: "delete" as const, path })),
      ];
      commit = await this.commit(revision, step, `Checkpoint ${revision}`, operations);
      this.emit({ type: "revision-committed", revision, step, commit, files: todo.map((file) => file.path) });
      check = checkRevision(revision, expected, await listRevisionFiles(this.hub, revision));
      if (check.ok) {
        break;
      }
      if (attempt >= 1) {
        throw new HubSyncError(
          "VERIFY",
          `${this.hub.repo}@${revision} does not match ${join(checkpoint.dir, "manifest.json")} after upload: ${describeCheck(check)}; run push again to repair it`,
        );
      }
    }
    this.branches?.set(revision, commit);
    this.progress.revisionDone(checkpoint);
    this.emit({ type: "revision-verified", revision, step, commit });
    return {
      revision,
      step,
      commit,
      status: existed ? "resumed" : "uploaded",
      check,
      files: checkpoint.files,
    };
  }

  /**
   * Commits the model card, `revisions.json` (merged with the one already on `main`) and, when given,
   * the final checkpoint's files to `main`; skips the commit when `main` already holds those bytes.
   */
  async updateMain(params: {
    results: RevisionPushResult[];
    final: LocalCheckpoint | null;
    schedule: CheckpointSchedule | null;
    data: Record<string, unknown> | null;
  }): Promise<PushSummary["main"]> {
    await this.ready();
    const previous = await this.readRevisionsManifest();
    const entries = new Map<string, RevisionEntry>(
      (previous?.revisions ?? []).map((entry) => [entry.revision, entry]),
    );
    for (const result of params.results) {
      entries.set(result.revision, {
        revision: result.revision,
        step: result.step,
        commit: result.commit,
        files: Object.fromEntries(
          result.files.map((file) => [file.path, { bytes: file.bytes, sha256: file.sha256 }]),
        ),
      });
    }
    const final = params.final ? revisionName(params.final.step) : (previous?.final ?? null);
    const manifest: RevisionsManifest = {
      format: "pythia-hub.revisions/1",
      schedule: params.schedule ?? previous?.schedule ?? null,
      final,
      revisions: [...entries.values()].sort((a, b) => a.step - b.step),
    };
    const configPath = params.final ? join(params.final.dir, "config.json") : null;
    const config =
      configPath && existsSync(configPath)
        ? (JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>)
        : null;
    const card = modelCard({ repo: this.hub.repo, manifest, config, data: params.data });
    const manifestText = formatRevisionsManifest(manifest);
    const expected: ExpectedFile[] = [
      ...(params.final ? await expectedFiles(params.final) : []),
      textFile("README.md", card),
      textFile(REVISIONS_MANIFEST, manifestText),
    ];
    const remote = await listRevisionFiles(this.hub, "main");
    const check = checkRevision("main", expected, remote);
    const todo = expected.filter((file) => !isGood(check, file.path));
    if (todo.length === 0) {
      return { commit: this.branches?.get("main") ?? "", final, changed: false };
    }
    const operations: CommitOperation[] = await Promise.all(
      todo.map(async (file) => ({
        operation: "addOrUpdate" as const,
        path: file.path,
        content:
          file.path === "README.md"
            ? new Blob([card])
            : file.path === REVISIONS_MANIFEST
              ? new Blob([manifestText])
              : await openAsBlob(join((params.final as LocalCheckpoint).dir, file.path)),
      })),
    );
    const commit = await this.commit(
      "main",
      null,
      final ? `Final checkpoint ${final}, model card` : "Model card",
      operations,
    );
    const after = checkRevision("main", expected, await listRevisionFiles(this.hub, "main"));
    if (!after.ok) {
      throw new HubSyncError(
        "VERIFY",
        `${this.hub.repo}@main does not match after upload: ${describeCheck(after)}`,
      );
    }
    this.branches?.set("main", commit);
    this.emit({ type: "main-updated", commit, final });
    return { commit, final, changed: true };
  }

  private async readRevisionsManifest(): Promise<RevisionsManifest | null> {
    let blob: Blob | null;
    try {
      blob = await downloadFile({
        repo: this.hub.repo,
        path: REVISIONS_MANIFEST,
        revision: "main",
        hubUrl: this.hub.hubUrl,
        accessToken: this.hub.accessToken,
        fetch: this.hub.fetch,
        xet: false,
      });
    } catch (error) {
      const wrapped = hubError(
        error,
        `reading ${REVISIONS_MANIFEST} from ${this.hub.repo}@main`,
        this.hub.signal,
      );
      if (wrapped.status === 404) {
        return null;
      }
      throw wrapped;
    }
    return blob === null
      ? null
      : parseRevisionsManifest(await blob.text(), `${this.hub.repo}@main/${REVISIONS_MANIFEST}`);
  }
}

function textFile(path: string, text: string): ExpectedFile {
  const bytes = Buffer.from(text);
  return {
    path,
    bytes: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    gitOid: gitOidOfText(text),
  };
}

function isGood(check: RevisionCheck, path: string): boolean {
  return !check.missingFiles.includes(path) && !check.mismatchedFiles.some((file) => file.path === path);
}

/** One line: what is missing or wrong in a revision. */
export function describeCheck(check: RevisionCheck): string {
  const parts: string[] = [];
  if (check.missingFiles.length > 0) {
    parts.push(`missing ${check.missingFiles.join(", ")}`);
  }
  for (const file of check.mismatchedFiles) {
    parts.push(`${file.path}: ${file.reason}`);
  }
  return parts.length > 0 ? parts.join("; ") : "ok";
}

/** Reads `run.json` of a `@pythia/trainer` run: the schedule and the data description, when present. */
export function readRunInfo(runDir: string): {
  schedule: CheckpointSchedule | null;
  data: Record<string, unknown> | null;
} {
  const path = join(runDir, "run.json");
  if (!existsSync(path)) {
    return { schedule: null, data: null };
  }
  let run: {
    config?: { steps?: number; checkpointEvery?: number; logSpacedUpTo?: number };
    data?: Record<string, unknown>;
  };
  try {
    run = JSON.parse(readFileSync(path, "utf8")) as typeof run;
  } catch (error) {
    throw new HubSyncError("INPUT", `${path}: not JSON (${(error as Error).message})`);
  }
  const config = run.config;
  const schedule =
    config && Number.isInteger(config.steps) && Number.isInteger(config.checkpointEvery)
      ? {
          steps: config.steps as number,
          every: config.checkpointEvery as number,
          ...(config.logSpacedUpTo !== undefined ? { logSpacedUpTo: config.logSpacedUpTo } : {}),
        }
      : null;
  return { schedule, data: run.data ?? null };
}

/** Parameters of `pushCheckpointIter`. */
export interface PushCheckpointParams extends PushOptions {
  /** A `step{N}` directory written by `@pythia/trainer`. */
  dir: string;
}

/**
 * Uploads one checkpoint directory as branch `step{N}` as soon as it is written (creating the repository
 * and the branch when missing), then verifies the branch's files and LFS sha256 against its manifest.
 * Already-verified revisions are skipped; incomplete ones are finished. Does not touch `main`.
 */
export function pushCheckpointIter(
  params: PushCheckpointParams,
): AsyncGenerator<PushEvent, RevisionPushResult> {
  return eventChannel(async (emit) => {
    const session = new PushSession(params, emit);
    try {
      return await session.pushCheckpoint(await readLocalCheckpoint({ dir: params.dir }));
    } catch (error) {
      throw hubError(error, `pushing ${params.dir}`, params.signal);
    }
  });
}

/** `pushCheckpointIter` drained; events go to `onEvent`. */
export function pushCheckpoint(
  params: PushCheckpointParams & { onEvent?: (event: PushEvent) => void },
): Promise<RevisionPushResult> {
  return drain(pushCheckpointIter(params), params.onEvent);
}

/** Parameters of `pushRunIter`. */
export interface PushRunParams extends PushOptions {
  /** A run directory written by `@pythia/trainer`: `run.json`, `step{N}/`. */
  dir: string;
  /** Also commit the largest step's files to `main`. @default true */
  final?: boolean;
  /** The schedule `verify` expects. @default read from `run.json` */
  schedule?: CheckpointSchedule;
}

/**
 * Pushes every complete checkpoint of a run, `concurrency` revisions at a time, each to its `step{N}`
 * branch, verified; then the model card, `revisions.json` and the final checkpoint to `main`.
 * Re-running skips verified revisions and finishes interrupted ones.
 */
export function pushRunIter(params: PushRunParams): AsyncGenerator<PushEvent, PushSummary> {
  return eventChannel(async (emit) => {
    const run = readRunInfo(params.dir);
    const checkpoints = await Promise.all(
      listCheckpointDirs(params.dir).map((dir) => readLocalCheckpoint({ dir })),
    );
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

/** Parameters of `HubUploader`. */
export interface HubUploaderParams extends PushOptions {
  /** The run directory, for `run.json` (schedule, data) in the model card. Optional. */
  runDir?: string;
  schedule?: CheckpointSchedule;
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
    const run = this.params.runDir ? readRunInfo(this.params.runDir) : { schedule: null, data: null };
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
