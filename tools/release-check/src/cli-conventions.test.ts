import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { publishedPackages } from "./workspace-packages.js";

// docs/cli-conventions.md, checked on every command line's built bin.

interface Bin {
  name: string;
  path: string;
  version: string;
}

const BINS: Bin[] = publishedPackages().flatMap((pkg) =>
  Object.entries(pkg.bin).map(([name, path]) => ({ name, path: join(pkg.dir, path), version: pkg.version })),
);

/** Runs a bin to completion (asynchronously, so that the cases run side by side). */
async function run(bin: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const path = BINS.find((candidate) => candidate.name === bin)?.path;
  if (path === undefined) {
    throw new Error(`no bin ${bin}`);
  }
  const started = performance.now();
  return new Promise<{ status: number | null; stdout: string; stderr: string; seconds: number }>(
    (resolve) => {
      execFile(
        process.execPath,
        [path, ...args],
        { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } },
        (error, stdout, stderr) => {
          const status = error === null ? 0 : typeof error.code === "number" ? error.code : null;
          resolve({ status, stdout, stderr, seconds: (performance.now() - started) / 1000 });
        },
      );
    },
  );
}

/** One `error: …` line on stderr (after any deprecation warnings), and no stack trace. */
function expectErrorLine(stderr: string): void {
  const lines = stderr
    .trimEnd()
    .split("\n")
    .filter((line) => !line.startsWith("warning: "));
  expect(lines[0], stderr).toMatch(/^error: \S/);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/unexpected error/);
}

describe.concurrent("every command line", () => {
  it("the published bins are all here", () => {
    expect(BINS.map((bin) => bin.name).sort()).toEqual([
      "pythia",
      "pythia-analyze",
      "pythia-data",
      "pythia-eval",
      "pythia-hub",
      "pythia-model",
      "pythia-tokenize",
      "pythia-train",
    ]);
  });

  it.each(BINS.map((bin) => [bin.name] as const))("%s: --help exits 0 and prints the usage", async (name) => {
    const result = await run(name, ["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: /);
  });

  it.each(BINS.map((bin) => [bin.name, bin.version] as const))(
    "%s: --version and -V print the version",
    async (name, version) => {
      for (const flag of ["--version", "-V"]) {
        const result = await run(name, [flag]);
        expect(result.status, `${name} ${flag}: ${result.stderr}`).toBe(0);
        expect(result.stdout).toBe(`${version}\n`);
      }
    },
  );

  it.each(BINS.map((bin) => [bin.name] as const))(
    "%s: an unknown option is a usage error (exit 2)",
    async (name) => {
      const result = await run(name, ["--definitely-not-an-option"]);
      expect(result.status).toBe(2);
      expectErrorLine(result.stderr);
    },
  );
});

describe.concurrent("usage errors exit 2, runtime errors 1, each in one `error:` line", () => {
  const cases: Array<[bin: string, args: string[], status: number, message: RegExp]> = [
    ["pythia-model", ["info"], 2, /exactly one of --checkpoint DIR or --preset NAME/],
    ["pythia-model", ["info", "--preset", "nope"], 2, /unknown preset "nope"/],
    ["pythia-train", ["--preset", "nope"], 2, /unknown preset "nope"/],
    [
      "pythia-eval",
      ["requests", "--tasks", "nope", "--data-dir", ".", "--output", "x.jsonl"],
      2,
      /unknown task "nope"/,
    ],
    [
      "pythia-eval",
      ["run", "--checkpoint", ".", "--tasks", "piqa,nope", "--data-dir", ".", "--output", "x"],
      2,
      /nope/,
    ],
    ["pythia-data", ["info", "--prefix", "/no/such/data"], 1, /cannot open \/no\/such\/data\.idx/],
    ["pythia-model", ["info", "--checkpoint", "/no/such/dir"], 1, /\/no\/such\/dir/],
    ["pythia-tokenize", ["frob"], 2, /unknown command "frob"/],
    ["pythia-hub", ["push"], 2, /missing required argument|required option/],
    ["pythia-analyze", ["frob"], 2, /unknown command 'frob'/],
    ["pythia", ["frob"], 2, /unknown command 'frob'/],
  ];
  it.each(cases)("%s %j exits %i", async (bin, args, status, message) => {
    const result = await run(bin, args);
    expect(result.status, result.stderr).toBe(status);
    expectErrorLine(result.stderr);
    expect(result.stderr).toMatch(message);
  });
});

describe("an unreachable Hub", () => {
  let closedPort = 0;
  beforeAll(async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closedPort = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("gives one line that says what failed and what to try, without a stack, in seconds", async () => {
    const hubUrl = `http://127.0.0.1:${closedPort}`;
    const result = await run("pythia-hub", ["verify", "--repo", "a/b", "--hub-url", hubUrl], {
      HF_TOKEN: "hf_test",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `error: cannot reach ${hubUrl} (ECONNREFUSED); check your network connection and the Hub URL (--hub-url, default https://huggingface.co), then run the command again\n`,
    );
    expect(result.seconds).toBeLessThan(10);
  });
});

describe("old spellings", () => {
  it("pythia-tokenize -v still prints the version, with a deprecation notice", async () => {
    const result = await run("pythia-tokenize", ["-v"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(result.stderr).toBe(
      "warning: -v is deprecated and will be removed in the next minor version; use -V\n",
    );
  });
});
