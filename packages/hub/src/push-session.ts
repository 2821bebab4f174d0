import { existsSync, openAsBlob, readFileSync } from "node:fs";
import { join } from "node:path";
import { commitIter, downloadFile, type CommitOperation } from "@huggingface/hub";
import { drain, gitBlobId, gitBlobIdFile, sha256Hex, type CheckpointScheduleParams } from "@pythia/core";
import { checkpointName, MANIFEST_JSON } from "@pythia/core/run";
import {
  ensureBranch,
  ensureRepo,
  hubError,
  listBranches,
  listRevisionFiles,
  resolveConnection,
  type ResolvedConnection,
} from "./hub-client.js";
import { HubSyncError } from "./hub-errors.js";
import { readLocalCheckpoint, type LocalCheckpoint } from "./local-checkpoint.js";
import { modelCard } from "./model-card.js";
import type { PushEvent, PushOptions, PushSummary, RevisionPushResult } from "./push-types.js";
import { checkRevision, type ExpectedFile, type RevisionCheck } from "./revision-check.js";
import {
  formatRevisionsManifest,
  parseRevisionsManifest,
  REVISIONS_MANIFEST,
  type RevisionEntry,
  type RevisionsManifest,
} from "./revisions-manifest.js";
import { ProgressTracker } from "./upload-progress.js";

const SMALL_FILE = 64 * 1024 * 1024;

async function expectedFiles(checkpoint: LocalCheckpoint): Promise<ExpectedFile[]> {
  return Promise.all(
    checkpoint.files.map(async (file) => ({
      ...file,
      ...(file.bytes < SMALL_FILE
        ? { gitOid: await gitBlobIdFile(join(checkpoint.dir, file.path), file.bytes) }
        : {}),
    })),
  );
}

/** One push session: a resolved connection, the branches seen, progress. */
export class PushSession {
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
    const revision = checkpointName(checkpoint.step);
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
        // A local file that changed since it was verified is the checkpoint's fault, not the Hub's.
        await readLocalCheckpoint({ dir: checkpoint.dir });
        throw new HubSyncError(
          "VERIFY",
          `${this.hub.repo}@${revision} does not match ${join(checkpoint.dir, MANIFEST_JSON)} after two uploads of files that do: ${describeCheck(check)}; the Hub stored other bytes: check the Hub's status, then push again (verified revisions are skipped)`,
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
    schedule: CheckpointScheduleParams | null;
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
    const final = params.final ? checkpointName(params.final.step) : (previous?.final ?? null);
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
    sha256: sha256Hex(bytes),
    gitOid: gitBlobId(bytes),
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
