import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
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

/** The notice an old spelling prints (docs/cli-conventions.md). */
const notice = (old: string, replacement: string) =>
  `warning: ${old} is deprecated and will be removed in the next minor version; use ${replacement}\n`;

describe.concurrent("one name per concept: the renamed flags", () => {
  const output: [string, string] = ["--output <dir>", "--out"];
  const checkpointSteps: [string, string] = ["--checkpoint-steps <list>", "--steps"];
  // [bin, subcommand, [new flag as --help shows it, old spelling hidden from --help]...]
  const renamed: Array<[string, string, Array<[string, string]>]> = [
    ["pythia-analyze", "memorization", [output, checkpointSteps]],
    ["pythia-analyze", "poisson", [output]],
    ["pythia-analyze", "term-frequency", [output, checkpointSteps]],
    ["pythia-analyze", "intervene", [output]],
    ["pythia-analyze", "gender-bias", [output, checkpointSteps]],
    ["pythia-analyze", "logit-lens", [output, checkpointSteps]],
    ["pythia-analyze", "tuned-lens", [output, ["--checkpoint-step <n>", "--step"]]],
    ["pythia-hub", "push", [["--run <dir>", "[dir]"]]], // `push <dir>` was the usage
    ["pythia-hub", "verify", [["--checkpoint-every <n>", "--every"]]],
  ];
  it.each(renamed)("%s %s --help shows the new names only", async (bin, subcommand, flags) => {
    const help = await run(bin, [subcommand, "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).not.toContain("Arguments:");
    for (const [flag, old] of flags) {
      expect(help.stdout).toContain(`\n  ${flag} `);
      expect(help.stdout.split(/\s+/)).not.toContain(old);
    }
  });
});

describe.concurrent("old spellings", () => {
  const scratch = mkdtempSync(join(tmpdir(), "cli-conventions-"));

  it("pythia-analyze --out still writes the output, with a notice", async () => {
    // A memorization scores file (PYMEMSC1, start, k, ℓ, 2 spare bytes, one match count per
    // sequence): 16 sequences, every fourth memorized (ℓ = 32 matching tokens).
    const scores = join(scratch, "memorization-step8.scores");
    const header = Buffer.alloc(16);
    header.write("PYMEMSC1", 0, "latin1");
    header.writeUInt32LE(0, 8);
    header.writeUInt8(32, 12);
    header.writeUInt8(32, 13);
    const matches = Buffer.from(Array.from({ length: 16 }, (_, i) => (i % 4 === 0 ? 32 : 3)));
    writeFileSync(scores, Buffer.concat([header, matches]));
    const out = join(scratch, "poisson");
    const result = await run("pythia-analyze", [
      "poisson",
      "--scores",
      scores,
      "--bin-size",
      "4",
      "--out",
      out,
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.startsWith(notice("--out", "--output")), result.stderr).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "poisson.json"), "utf8"))).toMatchObject({ bins: 4 });
  });

  it.each([
    ["memorization", "--steps", "--checkpoint-steps", "1,2"],
    ["tuned-lens", "--step", "--checkpoint-step", "4"],
  ])("pythia-analyze %s %s is parsed as %s, with a notice", async (subcommand, old, replacement, value) => {
    const missing = join(scratch, "no-such-run");
    const never = join(scratch, "never");
    const result = await run("pythia-analyze", [subcommand, "--run", missing, "--output", never, old, value]);
    expect(result.status).toBe(1);
    expect(result.stderr.startsWith(notice(old, replacement)), result.stderr).toBe(true);
    expectErrorLine(result.stderr);
    expect(result.stderr).toContain(`${missing}: no run.json`);
    // The value goes through the new option's parser.
    const bad = await run("pythia-analyze", [subcommand, old, "x"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('expected a non-negative integer, got "x"');
  });

  it("pythia-hub push <dir> still reaches the run, with a notice; --run <dir> without", async () => {
    const missing = join(scratch, "no-such-run");
    const env = { HF_TOKEN: "hf_test" };
    const positional = await run("pythia-hub", ["push", missing, "--repo", "a/b"], env);
    const option = await run("pythia-hub", ["push", "--run", missing, "--repo", "a/b"], env);
    const error = `error: ${missing} does not exist; pass a run directory written by @pythia/trainer\n`;
    expect(option.status).toBe(1);
    expect(option.stderr).toBe(error);
    expect(positional.status).toBe(1);
    expect(positional.stderr).toBe(
      "warning: pythia-hub push <dir> is deprecated and will be removed in the next minor version; use pythia-hub push --run <dir>\n" +
        error,
    );
  });

  it("input that is not UTF-8 gets the same `warning:` line from pythia-tokenize and pythia-data", async () => {
    const file = join(scratch, "latin1.jsonl");
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]),
    );
    const warning = `warning: ${file}: invalid UTF-8 at byte 12 (1 invalid sequence); replaced by U+FFFD (pass --strict to refuse such input)\n`;
    const counted = await run("pythia-tokenize", ["count", file]);
    expect(counted.status).toBe(0);
    expect(counted.stderr).toBe(warning);
    const prefix = join(scratch, "preprocessed", "latin1");
    mkdirSync(join(scratch, "preprocessed"), { recursive: true });
    const preprocessed = await run("pythia-data", [
      "preprocess",
      "--input",
      file,
      "--output-prefix",
      prefix,
      "--workers",
      "0",
    ]);
    expect(preprocessed.status).toBe(0);
    expect(preprocessed.stderr.split("\n")[0]).toBe(warning.trimEnd());
    expect(existsSync(`${prefix}_text_document.idx`)).toBe(true);
  });

  it("pythia-tokenize -v still prints the version, with a deprecation notice", async () => {
    const result = await run("pythia-tokenize", ["-v"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(result.stderr).toBe(
      "warning: -v is deprecated and will be removed in the next minor version; use -V\n",
    );
  });
});
