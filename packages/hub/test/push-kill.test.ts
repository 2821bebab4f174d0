// Kill -9 during a push (issue 13): a child process pushing a run to the loopback Hub is SIGKILLed at
// random points (on the arrival of a random request, plus 0-15 ms), then the push is run again. The
// repository must end up with the same branches and files as an uninterrupted push, consistent with
// its revisions.json. PYTHIA_KILL_RUNS rounds (default 3; `pnpm test:kill` runs 40), seeded by
// PYTHIA_KILL_SEED (printed on failure).
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyRepo } from "../src/index.js";
import { FakeHub } from "./fake-hub.js";
import { fakeRun, packagePath, repoName, TOKEN } from "./helpers.js";
import { seededRandom, testSeed } from "@pythia/core/testing";

const child = packagePath("test/push-child.mjs");
if (!existsSync(packagePath("dist/index.js"))) {
  throw new Error(
    `${packagePath("dist/index.js")} is missing: run "pnpm build" first (the root "pnpm test" builds first)`,
  );
}

const RUNS = Number(process.env.PYTHIA_KILL_RUNS ?? 3);
const SEED = testSeed("PYTHIA_KILL_SEED");

const fake = new FakeHub([TOKEN]);
let hubUrl = "";
beforeAll(async () => {
  hubUrl = await fake.start();
});
afterAll(async () => {
  await fake.stop();
  rmSync(fake.root, { recursive: true, force: true });
});

interface PushOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Requests the Hub received from this child. */
  requests: number;
}

/** Pushes `run` to `repo` in a child process, SIGKILLed `kill.delayMs` after its `kill.request`-th request. */
function pushInChild(
  repo: string,
  run: string,
  kill?: { request: number; delayMs: number },
): Promise<PushOutcome> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child, hubUrl, repo, run], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let requests = 0;
    process_.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    fake.onRequest = () => {
      requests++;
      if (kill !== undefined && requests === kill.request) {
        if (kill.delayMs === 0) {
          process_.kill("SIGKILL");
        } else {
          setTimeout(() => process_.kill("SIGKILL"), kill.delayMs);
        }
      }
    };
    process_.on("error", reject);
    process_.on("exit", (code, signal) => {
      fake.onRequest = null;
      // Let the Hub finish requests whose bodies arrived before the kill (as a real server would).
      setTimeout(() => resolve({ code, signal, stderr, requests }), 30);
    });
  });
}

/** The repository's state with commit ids left out; checks revisions.json names each branch's head. */
function normalized(repo: string): unknown {
  const snapshot = fake.snapshot(repo);
  const out: Record<string, unknown> = {};
  for (const [branch, { files }] of snapshot) {
    out[branch] = Object.fromEntries(files);
  }
  const manifest = JSON.parse(fake.read(repo, "main", "revisions.json").toString()) as {
    revisions: Array<{ revision: string; commit: string }>;
  };
  for (const entry of manifest.revisions) {
    expect(entry.commit, `${repo}: revisions.json's commit of ${entry.revision}`).toBe(
      snapshot.get(entry.revision)?.commit,
    );
  }
  out["revisions.json"] = manifest.revisions.map((entry) =>
    Object.fromEntries(Object.entries(entry).filter(([key]) => key !== "commit")),
  );
  out["README.md"] = fake
    .read(repo, "main", "README.md")
    .toString()
    .replace(/`[0-9a-f]{10}` \|$/gm, "`<commit>` |")
    .replaceAll(repo, "<repo>");
  // The bytes of these two differ by the commit ids and the name only, compared above.
  for (const path of ["revisions.json", "README.md"]) {
    delete (out.main as Record<string, unknown>)[path];
  }
  return out;
}

describe(`kill -9 during push (${RUNS} rounds, PYTHIA_KILL_SEED=${SEED})`, () => {
  it(
    "a push killed at random points and run again leaves the Hub as an uninterrupted push does",
    async () => {
      const run = await fakeRun();
      const referenceRepo = repoName();
      const reference = await pushInChild(referenceRepo, run);
      expect(reference.code, reference.stderr).toBe(0);
      const expected = normalized(referenceRepo);
      expect(Object.keys(expected as object)).toEqual([
        "main",
        "step0",
        "step1",
        "step2",
        "revisions.json",
        "README.md",
      ]);

      const next = seededRandom(SEED);
      const killed: string[] = [];
      for (let round = 0; round < RUNS; round++) {
        const repo = repoName();
        const kills = 1 + Math.floor(next() * 2);
        for (let k = 0; k < kills; k++) {
          const kill = {
            request: 1 + Math.floor(next() * reference.requests),
            delayMs: Math.floor(next() * 16),
          };
          const outcome = await pushInChild(repo, run, kill);
          killed.push(
            `round ${round}: request ${kill.request} + ${kill.delayMs} ms → ${outcome.signal ?? outcome.code}`,
          );
          expect(
            outcome.signal === "SIGKILL" || outcome.code === 0,
            `${killed.at(-1)}: ${outcome.stderr}`,
          ).toBe(true);
        }
        const final = await pushInChild(repo, run);
        expect(final.code, `seed ${SEED}, ${killed.join("; ")}: ${final.stderr}`).toBe(0);
        expect(normalized(repo), `seed ${SEED}, ${killed.join("; ")}`).toEqual(expected);
        const report = await verifyRepo({ repo, hubUrl, accessToken: TOKEN });
        expect(report.problems, `seed ${SEED}, ${killed.join("; ")}`).toEqual([]);
      }
    },
    30_000 + RUNS * 20_000,
  );
});
