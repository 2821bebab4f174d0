// pythia-hub, run as users run it: a child process over the built package, against the loopback Hub.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteBranch } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeHub } from "./fake-hub.js";
import { fakeRun, packagePath, readTree, repoName, TOKEN } from "./helpers.js";

const cli = packagePath("dist/cli.js");
try {
  readFileSync(cli);
} catch {
  throw new Error(`${cli} is missing: run "pnpm build" first (the root "pnpm test" builds before testing)`);
}

const fake = new FakeHub([TOKEN]);
let hubUrl = "";
beforeAll(async () => {
  hubUrl = await fake.start();
});
afterAll(() => fake.stop());

// Asynchronous: the fake Hub runs in this process, so spawnSync would deadlock it.
function run(args: string[], env: Record<string, string | undefined> = {}, url: string | null = hubUrl) {
  const home = mkdtempSync(join(tmpdir(), "hf-home-"));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args, ...(args[0] && url ? ["--hub-url", url] : [])], {
      env: { ...process.env, HF_TOKEN: TOKEN, HF_HOME: home, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("pythia-hub", () => {
  it("push, revisions, pull --all, verify; then verify fails on a missing branch", async () => {
    const dir = await fakeRun();
    const repo = repoName();
    const push = await run(["push", "--run", dir, "--repo", repo]);
    expect(push.stderr).toContain("step2: uploaded and verified");
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(
      /^step0\tuploaded\t[0-9a-f]{40}\nstep1\tuploaded\t[0-9a-f]{40}\nstep2\tuploaded/,
    );
    expect(push.stdout + push.stderr).not.toContain(TOKEN);

    // The old positional form still works for one minor version, with a notice.
    const again = await run(["push", dir, "--repo", repo]);
    expect(again.code).toBe(0);
    expect(again.stderr.split("\n")[0]).toBe(
      "warning: pythia-hub push <dir> is deprecated and will be removed in the next minor version; use pythia-hub push --run <dir>",
    );
    expect(again.stdout).toMatch(/step0\tskipped/);
    expect(again.stdout).toMatch(/main\tunchanged/);

    const revisions = await run(["revisions", "--repo", repo]);
    expect(
      revisions.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("\t")[0]),
    ).toEqual(["step0", "step1", "step2"]);

    const cache = mkdtempSync(join(tmpdir(), "hub-cli-cache-"));
    const pulled = await run(["pull", "--repo", repo, "--all", "--cache-dir", cache]);
    expect(pulled.code).toBe(0);
    for (const line of pulled.stdout.trim().split("\n")) {
      const [revision, , snapshot] = line.split("\t");
      expect(readTree(snapshot!)).toEqual(readTree(join(dir, revision!)));
    }
    const one = await run(["pull", "--repo", repo, "--revision", "step1", "--cache-dir", cache]);
    expect(one.stdout).toMatch(/^step1\t/);

    const ok = await run(["verify", "--repo", repo]);
    expect(ok.stdout).toContain("ok");
    expect(ok.code).toBe(0);

    await deleteBranch({ repo, branch: "step1", hubUrl, accessToken: TOKEN });
    const bad = await run(["verify", "--repo", repo]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("step1: no such branch");
    const json = await run(["verify", "--repo", repo, "--json"]);
    expect(JSON.parse(json.stdout).missingRevisions).toEqual(["step1"]);
  });

  it("a missing or malformed token is one clear line, never echoed", async () => {
    const missing = await run(["push", "--run", await fakeRun(), "--repo", repoName()], {
      HF_TOKEN: undefined,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: no Hugging Face token: set HF_TOKEN/);
    const malformed = await run(["push", "--run", await fakeRun(), "--repo", repoName()], {
      HF_TOKEN: "secret-value",
    });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('must start with "hf_"');
    expect(malformed.stderr).not.toContain("secret-value");
    const refused = await run(["push", "--run", await fakeRun(), "--repo", repoName()], {
      HF_TOKEN: "hf_refused",
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refused the token");
    expect(refused.stderr).not.toContain("hf_refused");
  });

  it("bad arguments", async () => {
    const repo = await run(["revisions", "--repo", "not-a-repo"]);
    expect(repo.code).toBe(2);
    expect(repo.stderr).toContain("expected ORG/NAME");
    const short = await run(["revisions", "--repo", "ab"]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/^error: .*"ab" is not a model repository name: expected ORG\/NAME/);
    const every = await run(["verify", "--repo", "a/b", "--steps", "10", "--checkpoint-every", "0"]);
    expect(every.code).toBe(2);
    expect(every.stderr).toBe("error: --checkpoint-every 0: the checkpoint interval must be at least 1\n");
    // The old spelling still works for one minor version, with a notice.
    const old = await run(["verify", "--repo", "a/b", "--steps", "10", "--every", "0"]);
    expect(old.code).toBe(2);
    expect(old.stderr).toBe(
      "warning: --every is deprecated and will be removed in the next minor version; use --checkpoint-every\nerror: --checkpoint-every 0: the checkpoint interval must be at least 1\n",
    );
    const both = await run([
      "pull",
      "--repo",
      "a/b",
      "--all",
      "--revision",
      "step1",
      "--cache-dir",
      tmpdir(),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("error: pass --revision or --all, not both\n");
    const steps = await run(["verify", "--repo", "a/b", "--steps", "10"]);
    expect(steps.code).toBe(2);
    expect(steps.stderr).toBe("error: --steps and --checkpoint-every go together\n");
  });

  it("push warns about each step{N} directory without a manifest.json instead of skipping it silently", async () => {
    const dir = await fakeRun();
    mkdirSync(join(dir, "step3"));
    writeFileSync(join(dir, "step3", "model.safetensors"), "partial");
    mkdirSync(join(dir, "step5"));
    const push = await run(["push", "--run", dir, "--repo", repoName()]);
    expect(push.code).toBe(0);
    const warnings = push.stderr.split("\n").filter((line) => line.startsWith("warning: "));
    const reason =
      "skipped, no manifest.json: an incomplete checkpoint (still being written, or its write was interrupted), so it is not uploaded; finish or resume training to write it again, or delete it";
    expect(warnings).toEqual([
      `warning: ${join(dir, "step3")}: ${reason}`,
      `warning: ${join(dir, "step5")}: ${reason}`,
    ]);
    expect(push.stdout).toMatch(
      /^step0\tuploaded\t[0-9a-f]{40}\nstep1\tuploaded\t[0-9a-f]{40}\nstep2\tuploaded/,
    );
  });

  it("push takes the run as --run <dir>; the positional form is hidden", async () => {
    const noRun = await run(["push", "--repo", repoName()]);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toBe(
      "error: push: missing --run <dir>: the run directory to upload (written by pythia-train: run.json, step{N}/)\n",
    );
    const twice = await run(["push", "a", "--run", "b", "--repo", repoName()]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(
      "error: push: the run is given twice (a and --run b); give it once, as --run <dir>\n",
    );
    const help = await run(["push", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: pythia-hub push --run <dir> --repo <org\/name> \[options\]\n/);
    expect(help.stdout).toContain("--run <dir>");
    expect(help.stdout).not.toMatch(/\[dir\]|Arguments:/);
  });
});

/** A server that is not a Hub (a proxy's HTML page, JSON of another shape); answers every request alike. */
async function badHub(
  status: number,
  type: string,
  body: string,
): Promise<{ url: string; close: () => void }> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { "content-type": type });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

describe("pythia-hub against a server that is not a Hub", () => {
  it("an HTML page or JSON of the wrong shape is one error line naming the URL, exit 1", async () => {
    const html = await badHub(200, "text/html", "<html><body>Proxy login</body></html>");
    const shape = await badHub(200, "application/json", '{"branches": 5}');
    try {
      for (const command of [["revisions"], ["verify"]]) {
        const page = await run([...command, "--repo", "a/b"], {}, html.url);
        expect(page.code).toBe(1);
        expect(page.stderr).toBe(
          `error: ${html.url}/api/models/a/b/refs: the Hub answered 200 with text/html starting with "<html><body>Proxy login</body></html>", not JSON; check --hub-url (is it a Hugging Face Hub, and is no proxy in the way?)\n`,
        );
        const wrong = await run([...command, "--repo", "a/b"], {}, shape.url);
        expect(wrong.code).toBe(1);
        expect(wrong.stderr).toMatch(
          /^error: http:\/\/127\.0\.0\.1:\d+\/api\/models\/a\/b\/refs: the Hub answered 200 with JSON that is not a list of refs .*; check --hub-url .*\n$/,
        );
      }
    } finally {
      html.close();
      shape.close();
    }
  });

  it("a malformed --hub-url is a usage error, and a URL fetch refuses is not retried", async () => {
    for (const url of ["notaurl", "ftp://example.com"]) {
      const bad = await run(["revisions", "--repo", "a/b"], {}, url);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^error: option '--hub-url <url>' argument '.*' is invalid\. /);
      expect(bad.stderr).toContain("https://huggingface.co");
    }
    const started = Date.now();
    // undici refuses port 9 ("bad port") before connecting: retrying cannot help.
    const port = await run(["revisions", "--repo", "a/b"], {}, "http://127.0.0.1:9");
    expect(port.code).toBe(1);
    expect(port.stderr).toBe(
      "error: cannot reach http://127.0.0.1:9 (bad port); check your network connection and the Hub URL (--hub-url, default https://huggingface.co), then run the command again\n",
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
