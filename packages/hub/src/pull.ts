import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  copyFileSync,
} from "node:fs";
import { createReadStream } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { downloadFile, type ListFileEntry } from "@huggingface/hub";
import { drain, renameDurable, StreamHasher, writeFileAtomic, type StreamHashes } from "@pythia/core";
import { MANIFEST_JSON, parseCheckpointName, parseManifest } from "@pythia/core/run";
import pLimit from "p-limit";
import { eventChannel } from "./event-channel.js";
import {
  hubError,
  listBranches,
  listRevisionFiles,
  resolveConnection,
  revisionCommit,
  type HubConnection,
  type ResolvedConnection,
} from "./hub-client.js";
import { HubSyncError } from "./hub-errors.js";

/** A `step{N}` branch of a repository. */
export interface HubRevision {
  revision: string;
  step: number;
  commit: string;
}

/** The `step{N}` branches of a repository, ascending by step (not `main`). */
export async function listRevisions(params: HubConnection): Promise<HubRevision[]> {
  const hub = resolveConnection(params);
  const branches = await listBranches(hub);
  if (branches === null) {
    throw new HubSyncError(
      "INPUT",
      `${hub.repo} does not exist on ${hub.hubUrl} (or the token cannot read it)`,
    );
  }
  return branches
    .map((branch) => ({
      revision: branch.name,
      step: parseCheckpointName(branch.name),
      commit: branch.commit,
    }))
    .filter((branch): branch is HubRevision => branch.step !== null)
    .sort((a, b) => a.step - b.step);
}

/** `models--org--name`: the repository's folder in the Hugging Face cache. */
export function cacheRepoFolder(repo: string): string {
  return `models--${repo.replaceAll("/", "--")}`;
}

/** Parameters of `pullIter`. */
export interface PullParams extends HubConnection {
  /** Revisions to download: names (`step1000`, `main`), or `"all"` for every `step{N}` branch. @default ["main"] */
  revisions?: string[] | "all";
  /** The cache root (`models--org--name/` goes inside). Like `HF_HUB_CACHE`. */
  cacheDir: string;
  /** Files downloaded at once. @default 4 */
  concurrency?: number;
}

/** Events of a pull. */
export type PullEvent =
  | { type: "revision-start"; revision: string; commit: string; files: number; bytes: number }
  | { type: "file-downloaded"; revision: string; path: string; bytes: number; cached: boolean }
  | { type: "revision-verified"; revision: string; commit: string; dir: string }
  | {
      type: "download-progress";
      bytes: number;
      totalBytes: number;
      files: number;
      totalFiles: number;
      revisions: number;
      totalRevisions: number;
    };

/** A revision in the cache: `dir` = `…/snapshots/<commit>`. */
export interface PulledRevision {
  revision: string;
  commit: string;
  dir: string;
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

/** Hashes `stream` while copying it to `out` (when given). */
async function hashStream(
  stream: AsyncIterable<Uint8Array>,
  out?: NodeJS.WritableStream,
): Promise<StreamHashes> {
  const hasher = new StreamHasher();
  if (out) {
    await pipeline(stream, (source: AsyncIterable<Uint8Array>) => hasher.pass(source), out);
  } else {
    for await (const chunk of hasher.pass(stream)) {
      void chunk;
    }
  }
  return hasher.digest();
}

function matches(entry: ListFileEntry, hashes: StreamHashes): boolean {
  if (hashes.bytes !== entry.size) {
    return false;
  }
  if (entry.lfs) {
    return hashes.sha256 === entry.lfs.oid;
  }
  return entry.oid === undefined || hashes.gitBlobId === null || hashes.gitBlobId === entry.oid;
}

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  try {
    symlinkSync(relative(dirname(path), target), path);
  } catch {
    copyFileSync(target, path);
  }
}

async function pullRevision(
  hub: ResolvedConnection,
  revision: string,
  cacheDir: string,
  concurrency: number,
  emit: (event: PullEvent) => void,
  progress: { add(bytes: number, files: number): void; file(bytes: number): void; revision(): void },
): Promise<PulledRevision> {
  const commit = await revisionCommit(hub, revision);
  if (commit === null) {
    throw new HubSyncError(
      "INPUT",
      `${hub.repo} has no revision "${revision}"; list them with "pythia-hub revisions"`,
    );
  }
  const entries = await listRevisionFiles(hub, commit);
  const storage = join(cacheDir, cacheRepoFolder(hub.repo));
  const snapshot = join(storage, "snapshots", commit);
  const totalBytes = entries.reduce((sum, entry) => sum + entry.size, 0);
  progress.add(totalBytes, entries.length);
  emit({ type: "revision-start", revision, commit, files: entries.length, bytes: totalBytes });
  const limit = pLimit(concurrency);
  const files = await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const blobName = entry.lfs?.oid ?? entry.oid;
        if (!blobName || !/^[0-9a-f]{40,64}$/.test(blobName)) {
          throw new HubSyncError(
            "VERIFY",
            `${hub.repo}@${revision}/${entry.path}: the Hub lists no oid for it`,
          );
        }
        const blobPath = join(storage, "blobs", blobName);
        let hashes: StreamHashes | null = null;
        let cached = false;
        if (existsSync(blobPath) && statSync(blobPath).size === entry.size) {
          const local = await hashStream(createReadStream(blobPath));
          if (matches(entry, local)) {
            hashes = local;
            cached = true;
          }
        }
        if (hashes === null) {
          let blob: Blob | null;
          try {
            blob = await downloadFile({
              repo: hub.repo,
              path: entry.path,
              revision: commit,
              hubUrl: hub.hubUrl,
              accessToken: hub.accessToken,
              fetch: hub.fetch,
              xet: false,
            });
          } catch (error) {
            throw hubError(error, `downloading ${hub.repo}@${revision}/${entry.path}`, hub.signal);
          }
          if (blob === null) {
            throw new HubSyncError(
              "VERIFY",
              `${hub.repo}@${revision}/${entry.path} is listed but cannot be downloaded (404)`,
            );
          }
          mkdirSync(dirname(blobPath), { recursive: true });
          const partial = `${blobPath}.incomplete`;
          hashes = await hashStream(
            Readable.fromWeb(blob.stream() as Parameters<typeof Readable.fromWeb>[0]),
            createWriteStream(partial),
          );
          if (!matches(entry, hashes)) {
            rmSync(partial, { force: true });
            throw new HubSyncError(
              "VERIFY",
              `${hub.repo}@${revision}/${entry.path}: downloaded ${hashes.bytes} bytes with sha256 ${hashes.sha256}, the Hub lists ${entry.size} bytes${entry.lfs ? ` and sha256 ${entry.lfs.oid}` : ` and git blob ${entry.oid}`}`,
            );
          }
          renameDurable(partial, blobPath);
        }
        link(blobPath, join(snapshot, entry.path));
        progress.file(entry.size);
        emit({ type: "file-downloaded", revision, path: entry.path, bytes: entry.size, cached });
        return { path: entry.path, bytes: entry.size, sha256: hashes.sha256 };
      }),
    ),
  );
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifestFile = files.find((file) => file.path === MANIFEST_JSON);
  if (manifestFile) {
    const where = `${hub.repo}@${revision}/${MANIFEST_JSON}`;
    const manifest = parseManifest(readFileSync(join(snapshot, MANIFEST_JSON), "utf8"), where);
    const byPath = new Map(files.map((file) => [file.path, file]));
    for (const [path, expected] of Object.entries(manifest.files)) {
      const got = byPath.get(path);
      if (got === undefined) {
        throw new HubSyncError(
          "VERIFY",
          `${where} lists ${path}, which the revision lacks; re-run push for it`,
        );
      }
      if (got.sha256 !== expected.sha256 || got.bytes !== expected.bytes) {
        throw new HubSyncError(
          "VERIFY",
          `${hub.repo}@${revision}/${path}: sha256 ${got.sha256} differs from ${where} (${expected.sha256}); the revision serves the wrong file`,
        );
      }
    }
  }
  if (revision !== commit) {
    mkdirSync(join(storage, "refs"), { recursive: true });
    writeFileAtomic(join(storage, "refs", revision), commit);
  }
  progress.revision();
  emit({ type: "revision-verified", revision, commit, dir: snapshot });
  return { revision, commit, dir: snapshot, files };
}

/**
 * Downloads revisions into a Hugging Face-style cache (`models--org--name/blobs`, `snapshots/<commit>/…`,
 * `refs/<revision>`), verifying every file's size and sha256 (LFS) or git blob id, and every file of the
 * revision's `manifest.json`. Blobs already in the cache are verified and reused.
 */
export function pullIter(params: PullParams): AsyncGenerator<PullEvent, PulledRevision[]> {
  return eventChannel(async (emit) => {
    const hub = resolveConnection(params);
    const revisions =
      params.revisions === "all"
        ? (await listRevisions(params)).map((item) => item.revision)
        : (params.revisions ?? ["main"]);
    const totals = {
      bytes: 0,
      totalBytes: 0,
      files: 0,
      totalFiles: 0,
      revisions: 0,
      totalRevisions: revisions.length,
    };
    const report = () => emit({ type: "download-progress", ...totals });
    const progress = {
      add(bytes: number, files: number) {
        totals.totalBytes += bytes;
        totals.totalFiles += files;
        report();
      },
      file(bytes: number) {
        totals.bytes += bytes;
        totals.files++;
        report();
      },
      revision() {
        totals.revisions++;
        report();
      },
    };
    const pulled: PulledRevision[] = [];
    for (const revision of revisions) {
      try {
        pulled.push(
          await pullRevision(hub, revision, params.cacheDir, params.concurrency ?? 4, emit, progress),
        );
      } catch (error) {
        throw hubError(error, `pulling ${hub.repo}@${revision}`, hub.signal);
      }
    }
    return pulled;
  });
}

/** `pullIter` drained; events go to `onEvent`. */
export function pull(
  params: PullParams & { onEvent?: (event: PullEvent) => void },
): Promise<PulledRevision[]> {
  return drain(pullIter(params), params.onEvent);
}
