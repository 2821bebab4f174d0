/**
 * A loopback Hugging Face Hub for tests: node:http on 127.0.0.1 (ephemeral port) implementing the subset
 * of the Hub REST API that `@huggingface/hub` and `@pythia/hub` call, with files stored on disk. LFS
 * uploads use basic transfer (the batch answer's `transfer` is "basic", so the client never uses xet).
 *
 * Fault injection: `fail(predicate)` answers matching requests with an error status (e.g. 503 after N
 * requests, to cut a push midway). `requests` logs method, path and the Authorization header seen.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface FakeFile {
  size: number;
  /** Git blob id (of the pointer file for LFS files). */
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
  /** Key of the content in the object store (sha256). */
  object: string;
}

interface FakeCommit {
  id: string;
  parent: string | null;
  title: string;
  files: Map<string, FakeFile>;
}

interface FakeRepo {
  branches: Map<string, string>;
  /** LFS objects uploaded to this repository (sha256). */
  lfs: Set<string>;
  commits: Map<string, FakeCommit>;
}

export interface FakeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  count: number;
}

const GITATTRIBUTES =
  "*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n";

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function gitOid(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

function lfsPointer(oid: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

export class FakeHub {
  readonly requests: FakeRequest[] = [];
  readonly root: string;
  private readonly repos = new Map<string, FakeRepo>();
  private server: Server | null = null;
  private failing: ((request: FakeRequest) => number | null) | null = null;
  private commitCounter = 0;
  url = "";
  /** Tree listing page size (exercises `Link: rel="next"` pagination). */
  treePageSize = 4;

  constructor(readonly tokens: string[] = ["hf_test_token"]) {
    this.root = mkdtempSync(join(tmpdir(), "pythia-fake-hub-"));
    mkdirSync(join(this.root, "objects"));
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          this.json(res, 500, { error: String(error) });
        } else {
          res.destroy();
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Answers requests for which `predicate` returns a status with that status; `null` heals. */
  fail(predicate: ((request: FakeRequest) => number | null) | null): void {
    this.failing = predicate;
  }

  /** Called with each request as it arrives, before it is answered (e.g. to kill a client there). */
  onRequest: ((request: FakeRequest) => void) | null = null;

  /** Every branch of a repository: its head commit and its files (path → size, git oid, LFS sha256). */
  snapshot(
    repo: string,
  ): Map<string, { commit: string; files: Map<string, { size: number; oid: string; lfs: string | null }> }> {
    const out = new Map<
      string,
      { commit: string; files: Map<string, { size: number; oid: string; lfs: string | null }> }
    >();
    const stored = this.repos.get(repo);
    for (const [branch, id] of [...(stored?.branches ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const commit = stored?.commits.get(id) as FakeCommit;
      const files = new Map(
        [...commit.files]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([path, file]) => [path, { size: file.size, oid: file.oid, lfs: file.lfs?.oid ?? null }]),
      );
      out.set(branch, { commit: id, files });
    }
    return out;
  }

  /** The bytes of a file at a branch's head. */
  read(repo: string, branch: string, path: string): Buffer {
    const file = this.resolve(this.repo(repo), branch).files.get(path);
    if (file === undefined) {
      throw new Error(`${repo}@${branch}: no ${path}`);
    }
    return this.object(file.object);
  }

  /** Branch names of a repository. */
  branches(repo: string): string[] {
    return [...(this.repos.get(repo)?.branches.keys() ?? [])].sort();
  }

  // ---------------------------------------------------------------- storage

  private putObject(bytes: Buffer): string {
    const key = sha256(bytes);
    const path = join(this.root, "objects", key);
    if (!existsSync(path)) {
      writeFileSync(path, bytes);
    }
    return key;
  }

  private object(key: string): Buffer {
    return readFileSync(join(this.root, "objects", key));
  }

  private newCommit(
    repo: FakeRepo,
    parent: string | null,
    title: string,
    files: Map<string, FakeFile>,
  ): FakeCommit {
    const id = createHash("sha1")
      .update(`${parent ?? ""}\n${title}\n${this.commitCounter++}\n`)
      .update([...files].map(([path, file]) => `${path}:${file.oid}`).join("\n"))
      .digest("hex");
    const commit = { id, parent, title, files };
    repo.commits.set(id, commit);
    return commit;
  }

  private repo(name: string): FakeRepo {
    const repo = this.repos.get(name);
    if (!repo) {
      throw new HttpError(404, "Repository not found", "RepoNotFound");
    }
    return repo;
  }

  private resolve(repo: FakeRepo, revision: string): FakeCommit {
    const id = repo.branches.get(revision) ?? (repo.commits.has(revision) ? revision : undefined);
    const commit = id === undefined ? undefined : repo.commits.get(id);
    if (!commit) {
      throw new HttpError(404, `Invalid rev id: ${revision}`, "RevisionNotFound");
    }
    return commit;
  }

  // ---------------------------------------------------------------- http

  private json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private checkAuth(req: IncomingMessage, write: boolean): void {
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    if (token !== undefined && !this.tokens.includes(token)) {
      throw new HttpError(401, "Invalid credentials in Authorization header");
    }
    if (write && token === undefined) {
      throw new HttpError(401, "You must be authenticated to write");
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const request: FakeRequest = {
      method,
      path: url.pathname,
      authorization: req.headers.authorization,
      count: this.requests.length + 1,
    };
    this.requests.push(request);
    this.onRequest?.(request);
    const injected = this.failing?.(request) ?? null;
    if (injected !== null) {
      await this.body(req);
      this.json(res, injected, { error: `injected failure ${injected}` });
      return;
    }
    try {
      await this.route(method, url, req, res);
    } catch (error) {
      if (error instanceof HttpError) {
        this.json(
          res,
          error.status,
          { error: error.message },
          error.errorCode ? { "X-Error-Code": error.errorCode } : {},
        );
        return;
      }
      throw error;
    }
  }

  private async route(method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = url.pathname;
    let match: RegExpExecArray | null;

    if (method === "POST" && path === "/api/repos/create") {
      this.checkAuth(req, true);
      const body = JSON.parse((await this.body(req)).toString()) as {
        name: string;
        organization: string;
        type: string;
      };
      if (body.type !== "model") {
        throw new HttpError(400, `only model repositories in the fake hub (got ${body.type})`);
      }
      const name = `${body.organization}/${body.name}`;
      if (this.repos.has(name)) {
        throw new HttpError(409, "You already created this model repo");
      }
      const repo: FakeRepo = { branches: new Map(), commits: new Map(), lfs: new Set() };
      const attributes = Buffer.from(GITATTRIBUTES);
      const files = new Map<string, FakeFile>([
        [
          ".gitattributes",
          { size: attributes.length, oid: gitOid(attributes), object: this.putObject(attributes) },
        ],
      ]);
      repo.branches.set("main", this.newCommit(repo, null, "initial commit", files).id);
      this.repos.set(name, repo);
      this.json(res, 200, { url: `${this.url}/${name}`, id: name });
      return;
    }

    if (
      (match =
        /^\/api\/models\/([^/]+\/[^/]+)\/(refs|branch|preupload|commit|tree|revision)(?:\/(.*))?$/.exec(path))
    ) {
      const [, name = "", action, rest = ""] = match;
      const write = method !== "GET";
      this.checkAuth(req, write);
      const repo = this.repo(name);
      switch (action) {
        case "refs": {
          this.json(res, 200, {
            branches: [...repo.branches].map(([branch, commit]) => ({
              name: branch,
              ref: `refs/heads/${branch}`,
              targetCommit: commit,
            })),
            tags: [],
            converts: [],
          });
          return;
        }
        case "branch": {
          const branch = decodeURIComponent(rest);
          if (method === "DELETE") {
            if (!repo.branches.delete(branch)) {
              throw new HttpError(404, `Branch ${branch} not found`);
            }
            this.json(res, 200, {});
            return;
          }
          const body = JSON.parse((await this.body(req)).toString() || "{}") as {
            startingPoint?: string;
            emptyBranch?: boolean;
            overwrite?: boolean;
          };
          if (repo.branches.has(branch) && !body.overwrite) {
            throw new HttpError(409, `Reference already exists: refs/heads/${branch}`);
          }
          if (body.emptyBranch) {
            repo.branches.set(branch, this.newCommit(repo, null, `empty branch ${branch}`, new Map()).id);
          } else {
            repo.branches.set(branch, this.resolve(repo, body.startingPoint ?? "main").id);
          }
          this.json(res, 200, {});
          return;
        }
        case "preupload": {
          this.resolve(repo, decodeURIComponent(rest));
          const body = JSON.parse((await this.body(req)).toString()) as {
            files: Array<{ path: string; size: number; sample: string }>;
          };
          this.json(res, 200, {
            files: body.files.map((file) => ({
              path: file.path,
              uploadMode:
                /\.(safetensors|bin)$/.test(file.path) || Buffer.from(file.sample, "base64").includes(0)
                  ? "lfs"
                  : "regular",
            })),
          });
          return;
        }
        case "commit": {
          const branch = decodeURIComponent(rest);
          const head = this.resolve(repo, branch);
          if (!repo.branches.has(branch)) {
            throw new HttpError(400, `can only commit to a branch (got ${branch})`);
          }
          const lines = (await this.body(req))
            .toString()
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => JSON.parse(line) as { key: string; value: Record<string, unknown> });
          const header = lines.find((line) => line.key === "header")?.value as {
            summary?: string;
            parentCommit?: string;
          };
          if (header?.parentCommit && header.parentCommit !== head.id) {
            throw new HttpError(412, "A commit has happened since the parent commit");
          }
          const files = new Map(head.files);
          for (const { key, value } of lines) {
            if (key === "file") {
              const bytes = Buffer.from(String(value.content), "base64");
              files.set(String(value.path), {
                size: bytes.length,
                oid: gitOid(bytes),
                object: this.putObject(bytes),
              });
            } else if (key === "lfsFile") {
              const oid = String(value.oid);
              if (!repo.lfs.has(oid)) {
                throw new HttpError(422, `LFS object ${oid} of ${String(value.path)} was never uploaded`);
              }
              const size = Number(value.size);
              const pointer = lfsPointer(oid, size);
              files.set(String(value.path), {
                size,
                oid: gitOid(pointer),
                lfs: { oid, size, pointerSize: pointer.length },
                object: oid,
              });
            } else if (key === "deletedFile") {
              files.delete(String(value.path));
            } else if (key !== "header") {
              throw new HttpError(400, `unknown commit operation ${key}`);
            }
          }
          const commit = this.newCommit(repo, head.id, header?.summary ?? "", files);
          repo.branches.set(branch, commit.id);
          this.json(res, 200, {
            commitOid: commit.id,
            commitUrl: `${this.url}/${name}/commit/${commit.id}`,
            hookOutput: "",
          });
          return;
        }
        case "tree": {
          const [revision = "", ...prefixParts] = rest.split("/");
          const prefix = prefixParts.join("/");
          const commit = this.resolve(repo, revision);
          const recursive = url.searchParams.get("recursive") === "true";
          const entries = [...commit.files]
            .filter(([file]) => prefix === "" || file.startsWith(`${prefix}/`))
            .filter(([file]) => recursive || !file.slice(prefix === "" ? 0 : prefix.length + 1).includes("/"))
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([file, entry]) => ({
              type: "file",
              path: file,
              size: entry.size,
              oid: entry.oid,
              ...(entry.lfs ? { lfs: entry.lfs } : {}),
            }));
          const cursor = Number(url.searchParams.get("cursor") ?? 0);
          const page = entries.slice(cursor, cursor + this.treePageSize);
          const headers: Record<string, string> = {};
          if (cursor + this.treePageSize < entries.length) {
            const next = new URL(url);
            next.searchParams.set("cursor", String(cursor + this.treePageSize));
            headers.Link = `<${next.href}>; rel="next"`;
          }
          this.json(res, 200, page, headers);
          return;
        }
        case "revision": {
          const commit = this.resolve(repo, decodeURIComponent(rest));
          this.json(res, 200, { id: name, modelId: name, sha: commit.id, private: false });
          return;
        }
      }
    }

    if (method === "POST" && (match = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path))) {
      this.checkAuth(req, true);
      const repo = this.repo(match[1] ?? "");
      const body = JSON.parse((await this.body(req)).toString()) as {
        operation: string;
        transfers: string[];
        ref?: { name: string };
        objects: Array<{ oid: string; size: number }>;
      };
      if (body.ref) {
        this.resolve(repo, body.ref.name);
      }
      res.writeHead(200, { "Content-Type": "application/vnd.git-lfs+json" });
      res.end(
        JSON.stringify({
          transfer: "basic",
          objects: body.objects.map((object) => ({
            oid: object.oid,
            size: object.size,
            ...(repo.lfs.has(object.oid)
              ? {}
              : {
                  actions: {
                    upload: {
                      href: `${this.url}/lfs-upload/${match?.[1]}/${object.oid}?size=${object.size}`,
                    },
                  },
                }),
          })),
        }),
      );
      return;
    }

    if (method === "PUT" && (match = /^\/lfs-upload\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(path))) {
      const repo = this.repo(match[1] ?? "");
      const bytes = await this.body(req);
      if (sha256(bytes) !== match[2] || bytes.length !== Number(url.searchParams.get("size"))) {
        throw new HttpError(400, "uploaded bytes do not match the announced sha256 and size");
      }
      repo.lfs.add(this.putObject(bytes));
      res.writeHead(200, { ETag: `"${match[2]}"` });
      res.end();
      return;
    }

    if (method === "GET" && (match = /^\/([^/]+\/[^/]+)\/(resolve|raw)\/([^/]+)\/(.+)$/.exec(path))) {
      this.checkAuth(req, false);
      const [, name = "", , revision = "", file = ""] = match;
      const commit = this.resolve(this.repo(name), decodeURIComponent(revision));
      const entry = commit.files.get(decodeURIComponent(file));
      if (!entry) {
        throw new HttpError(404, `Entry not found: ${file}`, "EntryNotFound");
      }
      const bytes = this.object(entry.object);
      const etag = `"${entry.lfs?.oid ?? entry.oid}"`;
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ""));
      const headers = {
        ETag: etag,
        "X-Repo-Commit": commit.id,
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
      };
      if (range) {
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : bytes.length - 1, bytes.length - 1);
        if (bytes.length === 0) {
          res.writeHead(200, { ...headers, "Content-Length": "0" });
          res.end();
          return;
        }
        res.writeHead(206, {
          ...headers,
          "Content-Range": `bytes ${start}-${end}/${bytes.length}`,
          "Content-Length": String(end - start + 1),
        });
        res.end(bytes.subarray(start, end + 1));
        return;
      }
      res.writeHead(200, { ...headers, "Content-Length": String(bytes.length) });
      res.end(bytes);
      return;
    }

    throw new HttpError(404, `fake hub: no route for ${method} ${path}`);
  }
}
