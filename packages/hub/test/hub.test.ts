// Push, resume, pull and verify against a loopback Hub (test/fake-hub.ts) through the real @huggingface/hub client.
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteBranch, uploadFile } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HubSyncError,
  HubUploader,
  listRevisions,
  pull,
  pushCheckpoint,
  pushRun,
  verifyRepo,
  type PushEvent,
} from "../src/index.js";
import { FakeHub } from "./fake-hub.js";
import { fakeRun, readTree, repoName, TOKEN, writeStep } from "./helpers.js";

const fake = new FakeHub([TOKEN]);
let hubUrl = "";
const fast = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };

beforeAll(async () => {
  hubUrl = await fake.start();
});
afterAll(async () => {
  await fake.stop();
  rmSync(fake.root, { recursive: true, force: true });
});

function connection(repo: string) {
  return { repo, hubUrl, accessToken: TOKEN, retry: fast };
}

describe("push", () => {
  it("pushes every checkpoint to step{N}, the final one and the model card to main, verified", async () => {
    const run = await fakeRun();
    const repo = repoName();
    const events: PushEvent[] = [];
    const summary = await pushRun({ ...connection(repo), dir: run, onEvent: (event) => events.push(event) });

    expect(summary.revisions.map((r) => [r.revision, r.status, r.check.ok])).toEqual([
      ["step0", "uploaded", true],
      ["step1", "uploaded", true],
      ["step2", "uploaded", true],
    ]);
    expect(fake.branches(repo)).toEqual(["main", "step0", "step1", "step2"]);
    expect(events[0]).toEqual({ type: "repo-created", repo });
    const last = events.filter((event) => event.type === "upload-progress").at(-1);
    expect(last).toMatchObject({ revisions: 3, totalRevisions: 3, files: 18, totalFiles: 18 });
    expect(last?.type === "upload-progress" && last.bytes === last.totalBytes).toBe(true);
    expect(summary.main).toMatchObject({ final: "step2", changed: true });

    // LFS basic transfer, never xet; the token only in Authorization headers.
    expect(fake.requests.some((request) => request.path.startsWith("/lfs-upload/"))).toBe(true);
    expect(fake.requests.some((request) => /xet/.test(request.path))).toBe(false);

    const pulled = await pull({
      ...connection(repo),
      revisions: ["main"],
      cacheDir: mkdtempSync(join(tmpdir(), "hub-cache-")),
    });
    const main = readTree(pulled[0]!.dir);
    expect(main.get("model.safetensors")).toEqual(readFileSync(join(run, "step2/model.safetensors")));
    const card = main.get("README.md")!.toString();
    expect(card).toContain("| `step1` | 1 |");
    expect(card).toContain("2 optimizer steps");
    expect(card).toContain('"prefix": "data/tiny_text_document"');
    expect(card).toContain("`hidden_size` | `16`");
    const manifest = JSON.parse(main.get("revisions.json")!.toString());
    expect(manifest.schedule).toEqual({ steps: 2, every: 2 });
    expect(manifest.revisions.map((entry: { revision: string }) => entry.revision)).toEqual([
      "step0",
      "step1",
      "step2",
    ]);
    expect(manifest.revisions[2].files["model.safetensors"].sha256).toBe(
      JSON.parse(readFileSync(join(run, "step2/manifest.json"), "utf8")).files["model.safetensors"].sha256,
    );

    // A second push changes nothing.
    const again = await pushRun({ ...connection(repo), dir: run });
    expect(again.revisions.map((r) => r.status)).toEqual(["skipped", "skipped", "skipped"]);
    expect(again.main?.changed).toBe(false);
  });

  it("resumes after the Hub fails midway: verified revisions are skipped, the rest finished", async () => {
    const run = await fakeRun();
    const repo = repoName();
    // Cut the push after the first revision's commit: every later request fails with 503 (retries exhausted).
    let commits = 0;
    fake.fail((request) => {
      if (
        request.path.includes(`/${repo}/commit/`) ||
        request.path.includes(`${repo.split("/")[1]}/commit/`)
      ) {
        commits++;
      }
      return commits > 1 ? 503 : null;
    });
    const error = await pushRun({ ...connection(repo), dir: run, concurrency: 1 }).catch((e: unknown) => e);
    fake.fail(null);
    expect(HubSyncError.isInstance(error) && error.code).toBe("REMOTE");
    expect((error as Error).message).not.toContain(TOKEN);
    expect(fake.branches(repo)).toContain("step0");

    const before = fake.requests.length;
    const summary = await pushRun({ ...connection(repo), dir: run, concurrency: 1 });
    expect(summary.revisions.map((r) => r.status)).toEqual(["skipped", "resumed", "uploaded"]);
    const putPaths = fake.requests
      .slice(before)
      .filter((r) => r.method === "PUT")
      .map((r) => r.path);
    // step1's LFS objects went up before its commit failed, and the Hub keeps them: only step2's two go up.
    expect(putPaths).toHaveLength(2);

    const cache = mkdtempSync(join(tmpdir(), "hub-cache-"));
    const pulled = await pull({ ...connection(repo), revisions: "all", cacheDir: cache });
    expect(pulled.map((p) => p.revision)).toEqual(["step0", "step1", "step2"]);
    for (const revision of pulled) {
      expect(revision.dir).toBe(
        join(cache, `models--${repo.replace("/", "--")}`, "snapshots", revision.commit),
      );
      expect(
        readFileSync(join(cache, `models--${repo.replace("/", "--")}`, "refs", revision.revision), "utf8"),
      ).toBe(revision.commit);
      expect(readTree(revision.dir)).toEqual(readTree(join(run, revision.revision)));
    }
    const report = await verifyRepo(connection(repo));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.expectedFrom).toBe("schedule");
  });

  it("stops on an abort signal and resumes", async () => {
    const run = await fakeRun();
    const repo = repoName();
    const controller = new AbortController();
    const error = await pushRun({
      ...connection(repo),
      dir: run,
      concurrency: 1,
      signal: controller.signal,
      onEvent: (event) => event.type === "revision-verified" && controller.abort(),
    }).catch((e: unknown) => e);
    expect(HubSyncError.isInstance(error) && error.code, String(error)).toBe("ABORTED");
    const summary = await pushRun({ ...connection(repo), dir: run });
    expect(summary.revisions[0]?.status).toBe("skipped");
    expect(summary.revisions.every((r) => r.check.ok)).toBe(true);
  });

  it("retries 429 and 5xx with backoff", async () => {
    const run = await fakeRun();
    const repo = repoName();
    let failures = 0;
    fake.fail(() => (failures++ % 3 === 0 && failures < 30 ? (failures % 2 ? 429 : 502) : null));
    const summary = await pushRun({
      ...connection(repo),
      dir: run,
      retry: { retries: 4, minDelayMs: 1, maxDelayMs: 2 },
    });
    fake.fail(null);
    expect(summary.revisions.every((r) => r.check.ok)).toBe(true);
    expect((await verifyRepo(connection(repo))).ok).toBe(true);
  });

  it("HubUploader uploads queued checkpoints while training goes on; drain returns the summary", async () => {
    const run = await fakeRun();
    const repo = repoName();
    const uploader = new HubUploader({ ...connection(repo), runDir: run });
    uploader.enqueue(join(run, "step0"));
    uploader.enqueue(join(run, "step1"));
    await writeStep(run, 2);
    uploader.enqueue(join(run, "step2"));
    const summary = await uploader.drain();
    expect(summary.revisions.map((r) => r.revision)).toEqual(["step0", "step1", "step2"]);
    expect(summary.main?.final).toBe("step2");
    expect((await verifyRepo(connection(repo))).ok).toBe(true);
  });

  it("pull replaces refs/<revision> atomically (a new file renamed over it, never rewritten in place)", async () => {
    const run = await fakeRun();
    const repo = repoName();
    await pushRun({ ...connection(repo), dir: run });
    const cache = mkdtempSync(join(tmpdir(), "hub-cache-"));
    const refs = join(cache, `models--${repo.replace("/", "--")}`, "refs");
    mkdirSync(refs, { recursive: true });
    // A stale ref hard-linked to a witness: writing in place would change the witness too.
    writeFileSync(join(refs, "step1"), "0".repeat(40));
    const witness = join(cache, "witness");
    linkSync(join(refs, "step1"), witness);
    const [pulled] = await pull({ ...connection(repo), revisions: ["step1"], cacheDir: cache });
    expect(readFileSync(join(refs, "step1"), "utf8")).toBe(pulled!.commit);
    expect(readFileSync(witness, "utf8")).toBe("0".repeat(40));
    expect(readdirSync(refs)).toEqual(["step1"]);
  });

  it("pushCheckpoint uploads a single step directory", async () => {
    const run = await fakeRun();
    const repo = repoName();
    const result = await pushCheckpoint({ ...connection(repo), dir: join(run, "step1") });
    expect(result).toMatchObject({ revision: "step1", status: "uploaded" });
    expect(fake.branches(repo)).toEqual(["main", "step1"]);
  });

  it("refuses a damaged local checkpoint and a bad token", async () => {
    const run = await fakeRun();
    rmSync(join(run, "step1", "model.safetensors"));
    const error = await pushRun({ ...connection(repoName()), dir: run }).catch((e: unknown) => e);
    expect(HubSyncError.isInstance(error) && error.code).toBe("CHECKPOINT");
    const badToken = await pushRun({
      ...connection(repoName()),
      dir: await fakeRun(),
      accessToken: "hf_wrong",
    }).catch((e: unknown) => e);
    expect(HubSyncError.isInstance(badToken) && badToken.code).toBe("TOKEN");
    expect((badToken as Error).message).not.toContain("hf_wrong");
  });
  it("refuses a bit-flipped checkpoint before uploading anything of it, naming the file", async () => {
    const run = await fakeRun();
    const weights = join(run, "step1", "model.safetensors");
    const bytes = readFileSync(weights);
    bytes[1234] = (bytes[1234] as number) ^ 0x01; // same size: only the sha256 tells
    writeFileSync(weights, bytes);
    const repo = repoName();
    const seen = fake.requests.length;
    const error = await pushRun({ ...connection(repo), dir: run }).catch((e: unknown) => e);
    expect(HubSyncError.isInstance(error) && error.code).toBe("CHECKPOINT");
    const message = (error as Error).message;
    expect(message).toMatch(
      /step1\/model\.safetensors: sha256 differs from the manifest's [0-9a-f]{64}; step1 is damaged, so nothing of it is uploaded: restore that file from a copy, or delete .*step1 and write it again \(resume training from an earlier step\)$/,
    );
    expect(message).not.toContain("\n");
    expect(message).not.toMatch(/push again/);
    // Nothing reached the Hub: not even the repository was created.
    expect(
      fake.requests.slice(seen).filter((request) => request.path.includes(repo.split("/")[1] as string)),
    ).toEqual([]);
    expect(fake.branches(repo)).toEqual([]);

    const single = await pushCheckpoint({ ...connection(repo), dir: join(run, "step1") }).catch(
      (e: unknown) => e,
    );
    expect(HubSyncError.isInstance(single) && single.code).toBe("CHECKPOINT");
    expect(fake.branches(repo)).toEqual([]);

    const uploader = new HubUploader({ ...connection(repo) });
    uploader.enqueue(join(run, "step1"));
    const drained = await uploader.drain().catch((e: unknown) => e);
    expect((drained as Error).message).toMatch(/step1\/model\.safetensors: sha256 differs/);
    expect(fake.branches(repo)).not.toContain("step1");
  });
});

describe("verify", () => {
  it("catches a missing branch, a duplicated weights blob and a file that differs from the manifest", async () => {
    const run = await fakeRun();
    await writeStep(run, 4, 4);
    const repo = repoName();
    await pushRun({ ...connection(repo), dir: run, schedule: { steps: 4, every: 2 } });
    expect((await verifyRepo(connection(repo))).ok).toBe(true);

    await deleteBranch({ repo, branch: "step1", hubUrl, accessToken: TOKEN });
    // Pythia's bug: step4 serves step2's weights.
    await uploadFile({
      repo,
      branch: "step4",
      file: {
        path: "model.safetensors",
        content: new Blob([readFileSync(join(run, "step2/model.safetensors"))]),
      },
      hubUrl,
      accessToken: TOKEN,
      useXet: false,
    });
    const report = await verifyRepo(connection(repo));
    expect(report.ok).toBe(false);
    expect(report.missingRevisions).toEqual(["step1"]);
    expect(report.duplicateWeights).toEqual([
      { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), revisions: ["step2", "step4"] },
    ]);
    const step4 = report.revisions.find((r) => r.revision === "step4");
    expect(step4?.mismatchedFiles.map((f) => f.path)).toEqual(["model.safetensors"]);
    expect(report.problems.join("\n")).toMatch(/step1: no such branch/);

    const revisions = await listRevisions(connection(repo));
    expect(revisions.map((r) => r.revision)).toEqual(["step0", "step2", "step4"]);

    // Pulling the corrupted revision fails its manifest check.
    const error = await pull({
      ...connection(repo),
      revisions: ["step4"],
      cacheDir: mkdtempSync(join(tmpdir(), "c-")),
    }).catch((e: unknown) => e);
    expect(HubSyncError.isInstance(error) && error.code).toBe("VERIFY");

    // Re-running push repairs everything.
    const repaired = await pushRun({ ...connection(repo), dir: run, schedule: { steps: 4, every: 2 } });
    expect(repaired.revisions.map((r) => r.status)).toEqual(["skipped", "uploaded", "skipped", "resumed"]);
    expect((await verifyRepo(connection(repo))).ok).toBe(true);
  });
});

describe("the four weight layouts of Pythia's revisions", () => {
  it("pull lays out each layout in the cache, and verify reports revisions that duplicate another's weights", async () => {
    const { createBranch, createRepo, uploadFiles } = await import("@huggingface/hub");
    const repo = repoName();
    const auth = { repo, hubUrl, accessToken: TOKEN };
    await createRepo({ ...auth });
    const bytes = (seed: number, length = 4096) =>
      new Blob([Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 97) % 251)]);
    const config = new Blob([JSON.stringify({ model_type: "gpt_neox" })]);
    const index = (shards: string[]) =>
      new Blob([
        JSON.stringify({ metadata: { total_size: 8192 }, weight_map: { a: shards[0], b: shards[1] } }),
      ]);
    const layouts: Record<string, Array<{ path: string; content: Blob }>> = {
      step1000: [{ path: "pytorch_model.bin", content: bytes(1) }],
      step2000: [
        { path: "pytorch_model-00001-of-00002.bin", content: bytes(2) },
        { path: "pytorch_model-00002-of-00002.bin", content: bytes(3) },
        {
          path: "pytorch_model.bin.index.json",
          content: index(["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]),
        },
      ],
      step3000: [
        { path: "model.safetensors", content: bytes(4) },
        { path: "pytorch_model.bin", content: bytes(5) },
      ],
      step4000: [
        { path: "model-00001-of-00002.safetensors", content: bytes(6) },
        { path: "model-00002-of-00002.safetensors", content: bytes(7) },
        {
          path: "model.safetensors.index.json",
          content: index(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]),
        },
      ],
      // Pythia's bug (EleutherAI/pythia#195, #205): a later branch serving an earlier one's weights.
      step5000: [{ path: "pytorch_model.bin", content: bytes(1) }],
    };
    for (const [branch, files] of Object.entries(layouts)) {
      await createBranch({ ...auth, branch, empty: true });
      await uploadFiles({
        ...auth,
        branch,
        files: [{ path: "config.json", content: config }, ...files],
        useXet: false,
      });
    }

    const cacheDir = mkdtempSync(join(tmpdir(), "layouts-"));
    const pulled = await pull({ ...connection(repo), revisions: Object.keys(layouts), cacheDir });
    for (const revision of pulled) {
      const tree = readTree(revision.dir);
      expect([...tree.keys()].sort(), revision.revision).toEqual(
        ["config.json", ...layouts[revision.revision]!.map((file) => file.path)].sort(),
      );
      for (const file of layouts[revision.revision]!) {
        expect(tree.get(file.path)!.equals(Buffer.from(await file.content.arrayBuffer())), file.path).toBe(
          true,
        );
      }
    }

    const report = await verifyRepo(connection(repo));
    expect(
      report.revisions.map((revision) => [revision.revision, revision.ok, Object.keys(revision.weights)]),
    ).toEqual([
      ["step1000", true, ["pytorch_model.bin"]],
      ["step2000", true, ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]],
      ["step3000", true, ["model.safetensors"]],
      ["step4000", true, ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]],
      ["step5000", true, ["pytorch_model.bin"]],
    ]);
    expect(report.duplicateWeights).toEqual([
      { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), revisions: ["step1000", "step5000"] },
    ]);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/^step1000, step5000: byte-identical weights/)]);
  });
});
