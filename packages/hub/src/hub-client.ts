import {
  createBranch,
  createRepo,
  HUB_URL,
  HubApiError,
  listFiles,
  type ListFileEntry,
} from "@huggingface/hub";
import { RunError } from "@pythia/core/run";
import { HubSyncError } from "./hub-errors.js";
import { connectionErrorCode, isRetriableFetchError, networkErrors } from "./network-error.js";

/** Retry policy for Hub requests (429, 5xx and network errors). */
export interface RetryOptions {
  /** Retries after the first attempt. @default 5 */
  retries?: number;
  /** First backoff delay; doubles each retry, with jitter. @default 500 */
  minDelayMs?: number;
  /** Retries when no connection could be made at all (refused, unknown host). @default 2 */
  connectRetries?: number;
  /** Longest backoff delay (also caps `Retry-After`). @default 30000 */
  maxDelayMs?: number;
}

/** Where and how to reach the Hub; shared by push, pull and verify. */
export interface HubConnection {
  /** `org/name` of a model repository. */
  repo: string;
  /** @default "https://huggingface.co" */
  hubUrl?: string;
  /** Access token (`hf_…`); see `resolveToken`. Optional for public reads. */
  accessToken?: string;
  /** Injected fetch (tests, proxies). @default globalThis.fetch */
  fetch?: typeof fetch;
  retry?: RetryOptions;
  signal?: AbortSignal;
}

/** A connection with defaults applied and a retrying fetch. */
export interface ResolvedConnection {
  repo: string;
  hubUrl: string;
  accessToken: string | undefined;
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
}

/** Checks `org/name`; throws `HubSyncError("INPUT")` otherwise. */
export function checkRepoName(repo: string): void {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) {
    throw new HubSyncError(
      "INPUT",
      `"${repo}" is not a model repository name: expected ORG/NAME, e.g. EleutherAI/pythia-70m`,
    );
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Wraps `fetch` so that 429 and 5xx answers and network errors (those with a system error code) are retried with exponential backoff
 * and jitter (honouring `Retry-After`). Request bodies are Blobs or strings, so they can be re-sent.
 */
export function retryingFetch(base: typeof fetch, options: RetryOptions = {}): typeof fetch {
  const retries = options.retries ?? 5;
  const minDelay = options.minDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const connectRetries = Math.min(retries, options.connectRetries ?? 2);
  return async (input, init) => {
    for (let attempt = 0; ; attempt++) {
      const signal = init?.signal ?? undefined;
      let response: Response | undefined;
      try {
        response = await base(input, init);
      } catch (error) {
        const refused = ["ECONNREFUSED", "ENOTFOUND"].includes(connectionErrorCode(error) ?? "");
        if (
          signal?.aborted ||
          !isRetriableFetchError(error) ||
          attempt >= retries ||
          (refused && attempt >= connectRetries)
        ) {
          throw error;
        }
      }
      if (response !== undefined && response.status !== 429 && response.status < 500) {
        return response;
      }
      if (response !== undefined && attempt >= retries) {
        return response;
      }
      const retryAfter = Number(response?.headers.get("Retry-After"));
      const backoff = Math.min(maxDelay, minDelay * 2 ** attempt) * (0.5 + Math.random() / 2);
      await response?.body?.cancel();
      await sleep(
        Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(maxDelay, retryAfter * 1000) : backoff,
        signal,
      );
    }
  };
}

/** Every request also stops when `signal` aborts (the client passes its own signal only on some calls). */
function abortableFetch(base: typeof fetch, signal: AbortSignal | undefined): typeof fetch {
  if (signal === undefined) {
    return base;
  }
  return (input, init) => {
    signal.throwIfAborted();
    return base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
  };
}

/** Applies defaults and wraps fetch with retries and the connection's abort signal. */
export function resolveConnection(connection: HubConnection): ResolvedConnection {
  checkRepoName(connection.repo);
  return {
    repo: connection.repo,
    hubUrl: (connection.hubUrl ?? HUB_URL).replace(/\/+$/, ""),
    accessToken: connection.accessToken,
    fetch: abortableFetch(
      networkErrors(
        retryingFetch(connection.fetch ?? globalThis.fetch, connection.retry),
        (connection.hubUrl ?? HUB_URL).replace(/\/+$/, ""),
      ),
      connection.signal,
    ),
    signal: connection.signal,
  };
}

/** Turns any Hub failure into a `HubSyncError` that names the operation; never includes the token. */
export function hubError(error: unknown, what: string, signal?: AbortSignal): HubSyncError {
  if (HubSyncError.isInstance(error)) {
    return error;
  }
  if (RunError.isInstance(error)) {
    // A run or checkpoint on disk (or a downloaded manifest) that does not match the run contract.
    return new HubSyncError(error.code === "MANIFEST" ? "CHECKPOINT" : "INPUT", error.message, {
      cause: error,
    });
  }
  if (signal?.aborted || (error instanceof Error && error.name === "AbortError")) {
    return new HubSyncError("ABORTED", `${what}: aborted`, { cause: error });
  }
  if (error instanceof HubApiError) {
    if (error.statusCode === 401 || error.statusCode === 403) {
      return new HubSyncError(
        "TOKEN",
        `${what}: the Hub refused the token (HTTP ${error.statusCode}); check that it is valid and has write access to the repository`,
        { cause: error, status: error.statusCode },
      );
    }
    return new HubSyncError("REMOTE", `${what}: ${error.message}`, {
      cause: error,
      status: error.statusCode,
    });
  }
  if (error instanceof TypeError && /access token must start with 'hf_'/.test(error.message)) {
    return new HubSyncError("TOKEN", `${what}: the token must start with "hf_"`, { cause: error });
  }
  return new HubSyncError("REMOTE", `${what}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}

async function apiJson<T>(hub: ResolvedConnection, path: string, what: string): Promise<T | null> {
  const response = await hub.fetch(`${hub.hubUrl}${path}`, {
    headers: {
      accept: "application/json",
      ...(hub.accessToken ? { Authorization: `Bearer ${hub.accessToken}` } : {}),
    },
    signal: hub.signal,
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return null;
  }
  if (!response.ok) {
    const text = await response.text();
    const status = response.status;
    if (status === 401 || status === 403) {
      throw new HubSyncError(
        "TOKEN",
        `${what}: the Hub refused the token (HTTP ${status}); check that it is valid and may access ${hub.repo}`,
        { status },
      );
    }
    throw new HubSyncError(
      "REMOTE",
      `${what}: HTTP ${status} from ${hub.hubUrl}${path} (${text.slice(0, 200)})`,
      {
        status,
      },
    );
  }
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw unexpectedReply(hub, path, response, `${describeBody(response, text)}, not JSON`);
  }
}

/** A few words about a reply body that is not what the Hub sends: its content type and first characters. */
function describeBody(response: Response, text: string): string {
  const type = response.headers.get("content-type")?.split(";")[0]?.trim() || "no content type";
  const start = text.trim().slice(0, 40).replace(/\s+/g, " ");
  return text.trim() === "" ? `an empty ${type} body` : `${type} starting with ${JSON.stringify(start)}`;
}

/** The error for a reply that is not the Hub's (a proxy's page, another server): one line, naming the URL. */
function unexpectedReply(
  hub: ResolvedConnection,
  path: string,
  response: Response,
  what: string,
): HubSyncError {
  return new HubSyncError(
    "REMOTE",
    `${hub.hubUrl}${path}: the Hub answered ${response.status} with ${what}; check --hub-url (is it a Hugging Face Hub, and is no proxy in the way?)`,
    { status: response.status },
  );
}

/** The error for JSON of the wrong shape (no response left to describe). */
function wrongShape(hub: ResolvedConnection, path: string, expected: string): HubSyncError {
  return new HubSyncError(
    "REMOTE",
    `${hub.hubUrl}${path}: the Hub answered 200 with JSON that is not ${expected}; check --hub-url (is it a Hugging Face Hub, and is no proxy in the way?)`,
    { status: 200 },
  );
}

/** A branch of the repository and the commit it points to. */
export interface HubBranch {
  name: string;
  commit: string;
}

interface RefsFormat {
  branches: Array<{ name: string; ref: string; targetCommit: string }>;
}

/** All branches (`GET /api/models/{repo}/refs`, the route huggingface_hub's `list_repo_refs` uses); null when the repo does not exist. */
export async function listBranches(hub: ResolvedConnection): Promise<HubBranch[] | null> {
  const path = `/api/models/${hub.repo}/refs`;
  const refs = await apiJson<unknown>(hub, path, `listing the branches of ${hub.repo}`);
  if (refs === null) {
    return null;
  }
  const branches = (refs as Partial<RefsFormat> | undefined)?.branches;
  if (
    !Array.isArray(branches) ||
    !branches.every(
      (branch: unknown) =>
        typeof (branch as RefsFormat["branches"][number])?.name === "string" &&
        typeof (branch as RefsFormat["branches"][number]).targetCommit === "string",
    )
  ) {
    throw wrongShape(hub, path, 'a list of refs ({"branches": [{"name", "targetCommit"}, …]})');
  }
  return branches.map((branch) => ({ name: branch.name, commit: branch.targetCommit }));
}

/** Commit id of a revision (`GET /api/models/{repo}/revision/{rev}`); null when it does not exist. */
export async function revisionCommit(hub: ResolvedConnection, revision: string): Promise<string | null> {
  const path = `/api/models/${hub.repo}/revision/${encodeURIComponent(revision)}`;
  const info = await apiJson<unknown>(hub, path, `resolving ${hub.repo}@${revision}`);
  if (info === null) {
    return null;
  }
  const sha = (info as { sha?: unknown } | undefined)?.sha;
  if (typeof sha !== "string") {
    throw wrongShape(hub, path, 'a revision ({"sha": …})');
  }
  return sha;
}

/** Every file of a revision, recursively (`GET /api/models/{repo}/tree/{rev}?recursive=true`, paginated). */
export async function listRevisionFiles(hub: ResolvedConnection, revision: string): Promise<ListFileEntry[]> {
  const files: ListFileEntry[] = [];
  try {
    for await (const entry of listFiles({
      repo: hub.repo,
      revision,
      recursive: true,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      fetch: hub.fetch,
    })) {
      if (entry.type === "file") {
        files.push(entry);
      }
    }
  } catch (error) {
    throw hubError(error, `listing the files of ${hub.repo}@${revision}`, hub.signal);
  }
  return files;
}

/** Creates the model repository unless it exists (409 from the Hub); returns true when it created it. */
export async function ensureRepo(
  hub: ResolvedConnection,
  options: { private?: boolean } = {},
): Promise<boolean> {
  if ((await listBranches(hub)) !== null) {
    return false;
  }
  if (!hub.accessToken) {
    throw new HubSyncError(
      "TOKEN",
      `creating ${hub.repo} needs an access token: set HF_TOKEN or run "huggingface-cli login"`,
    );
  }
  try {
    await createRepo({
      repo: hub.repo,
      accessToken: hub.accessToken,
      hubUrl: hub.hubUrl,
      fetch: hub.fetch,
      ...(options.private !== undefined ? { private: options.private } : {}),
    });
    return true;
  } catch (error) {
    if (error instanceof HubApiError && error.statusCode === 409) {
      return false;
    }
    throw hubError(error, `creating ${hub.repo}`, hub.signal);
  }
}

/** Creates an empty branch unless it exists (a 409 means it does: the error text changed in 2025, the status did not). */
export async function ensureBranch(hub: ResolvedConnection, branch: string): Promise<void> {
  try {
    await createBranch({
      repo: hub.repo,
      branch,
      empty: true,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      fetch: hub.fetch,
    });
  } catch (error) {
    if (error instanceof HubApiError && error.statusCode === 409) {
      return;
    }
    throw hubError(error, `creating branch ${branch} of ${hub.repo}`, hub.signal);
  }
}
