#!/usr/bin/env node
/**
 * `pythia-hub`: push a training run to the Hugging Face Hub (a `step{N}` branch per checkpoint), pull
 * revisions into the HF cache, verify a repository, list its revisions. Thin wiring over the library;
 * the token is read from HF_TOKEN or the token file and never printed.
 */
import { checkedArgument, deprecatedOption, integerArgument, runCli, UsageError } from "@pythia/core/cli";
import { existsSync, readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { checkRepoName } from "./hub-client.js";
import { resolveToken, tokenFilePath } from "./hub-token.js";
import { listRevisions, pull } from "./pull.js";
import { pushRun, type PushEvent } from "./push.js";
import { verifyRepo } from "./verify.js";

/** The token when one is configured (a malformed one is an error); undefined for anonymous reads. */
function optionalToken(): string | undefined {
  if (process.env.HF_TOKEN === undefined && !existsSync(tokenFilePath())) {
    return undefined;
  }
  return resolveToken();
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function pushReporter(): (event: PushEvent) => void {
  let last = 0;
  return (event) => {
    switch (event.type) {
      case "checkpoint-skipped":
        process.stderr.write(`warning: ${event.dir}: skipped, ${event.reason}\n`);
        break;
      case "repo-created":
        process.stderr.write(`created ${event.repo}\n`);
        break;
      case "revision-skipped":
        process.stderr.write(`${event.revision}: already uploaded and verified\n`);
        break;
      case "revision-verified":
        process.stderr.write(`${event.revision}: uploaded and verified (${event.commit.slice(0, 10)})\n`);
        break;
      case "main-updated":
        process.stderr.write(`main: model card, revisions.json${event.final ? ` and ${event.final}` : ""}\n`);
        break;
      case "upload-progress": {
        const now = Date.now();
        if (now - last > 1000 || event.revisions === event.totalRevisions) {
          last = now;
          process.stderr.write(
            `progress: ${megabytes(event.bytes)} / ${megabytes(event.totalBytes)}, ${event.files}/${event.totalFiles} files, ${event.revisions}/${event.totalRevisions} revisions\n`,
          );
        }
        break;
      }
      default:
        break;
    }
  };
}

/** Commander parser for `--hub-url`: an http(s) URL, checked before any request (no retries on a typo). */
function hubUrlArgument(value: string): string {
  if (!URL.canParse(value)) {
    throw new InvalidArgumentError(
      `"${value}" is not a URL; pass the Hub's address, e.g. https://huggingface.co`,
    );
  }
  const protocol = new URL(value).protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new InvalidArgumentError(
      `"${value}" is a ${protocol.slice(0, -1)}: URL; the Hub is reached over http or https, e.g. https://huggingface.co`,
    );
  }
  return value;
}

const hubUrlOption = [
  "--hub-url <url>",
  "Hub endpoint (default: https://huggingface.co)",
  hubUrlArgument,
] as const;
// `--repo`: `org/name`, checked before any request.
const repoOption = ["--repo <org/name>", "model repository", checkedArgument(checkRepoName)] as const;

function packageVersion(): string {
  return (
    JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
  ).version;
}

/**
 * The run `push` uploads: `--run <dir>`, or the old positional `push <dir>` (kept for one minor
 * version, with a deprecation notice; docs/cli-conventions.md).
 */
function pushRunDir(positional: string | undefined, run: string | undefined): string {
  if (positional !== undefined && run !== undefined) {
    throw new UsageError(
      `push: the run is given twice (${positional} and --run ${run}); give it once, as --run <dir>`,
    );
  }
  if (positional !== undefined) {
    process.stderr.write(
      "warning: pythia-hub push <dir> is deprecated and will be removed in the next minor version; use pythia-hub push --run <dir>\n",
    );
    return positional;
  }
  if (run === undefined) {
    throw new UsageError(
      "push: missing --run <dir>: the run directory to upload (written by pythia-train: run.json, step{N}/)",
    );
  }
  return run;
}

function program(): Command {
  const root = new Command("pythia-hub")
    .description(
      "Sync Pythia checkpoints with the Hugging Face Hub: one step{N} branch per checkpoint, verified",
    )
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  deprecatedOption(
    root
      .command("push")
      .description("upload every checkpoint of a run (resumable), the final one and a model card to main")
      .usage("--run <dir> --repo <org/name> [options]")
      // The old positional form (`push <dir>`), hidden from --help: no description, and the usage above.
      .argument("[dir]")
      .option("--run <dir>", "run directory written by pythia-train (run.json, step{N}/)")
      .requiredOption(...repoOption)
      .option(...hubUrlOption)
      .option("--workers <n>", "revisions uploaded at once", integerArgument, 2)
      .option("--private", "create the repository as private")
      .option("--no-final", "do not commit the last checkpoint to main")
      .action(
        async (
          positional: string | undefined,
          options: {
            run?: string;
            repo: string;
            hubUrl?: string;
            workers: number;
            private?: boolean;
            final: boolean;
          },
        ) => {
          const dir = pushRunDir(positional, options.run);
          const summary = await pushRun({
            dir,
            repo: options.repo,
            hubUrl: options.hubUrl,
            accessToken: resolveToken(),
            concurrency: options.workers,
            private: options.private ?? false,
            final: options.final,
            onEvent: pushReporter(),
          });
          for (const revision of summary.revisions) {
            process.stdout.write(`${revision.revision}\t${revision.status}\t${revision.commit}\n`);
          }
          if (summary.main) {
            process.stdout.write(
              `main\t${summary.main.changed ? "updated" : "unchanged"}\t${summary.main.commit}\n`,
            );
          }
        },
      ),
    "--concurrency <n>",
    "--workers",
  );

  deprecatedOption(
    root
      .command("pull")
      .description("download revisions into a Hugging Face-style cache, verifying every sha256")
      .requiredOption(...repoOption)
      .requiredOption("--cache-dir <dir>", "cache directory (models--org--name/ goes inside)")
      .option("--revision <name...>", "revision(s) to download (default: main)")
      .option("--all", "every step{N} revision")
      .option(...hubUrlOption)
      .action(
        async (options: {
          repo: string;
          cacheDir: string;
          revision?: string[];
          all?: boolean;
          hubUrl?: string;
        }) => {
          if (options.all && options.revision) {
            throw new UsageError("pass --revision or --all, not both");
          }
          const pulled = await pull({
            repo: options.repo,
            hubUrl: options.hubUrl,
            accessToken: optionalToken(),
            cacheDir: options.cacheDir,
            revisions: options.all ? "all" : (options.revision ?? ["main"]),
            onEvent: (event) => {
              if (event.type === "revision-verified") {
                process.stderr.write(`${event.revision}: downloaded and verified\n`);
              }
            },
          });
          for (const revision of pulled) {
            process.stdout.write(`${revision.revision}\t${revision.commit}\t${revision.dir}\n`);
          }
        },
      ),
    "--cache <dir>",
    "--cache-dir",
  );

  deprecatedOption(
    root
      .command("verify")
      .description(
        "report missing revisions and files, and revisions with byte-identical weights; exit 1 if any",
      )
      .requiredOption(...repoOption)
      .option("--steps <n>", "expected schedule: optimizer steps (with --checkpoint-every)", integerArgument)
      .option(
        "--checkpoint-every <n>",
        "expected schedule: checkpoint interval, as pythia-train's --checkpoint-every (with --steps)",
        integerArgument,
      )
      .option("--json", "print the full report as JSON")
      .option(...hubUrlOption),
    "--every <n>",
    "--checkpoint-every",
  ).action(
    async (options: {
      repo: string;
      steps?: number;
      checkpointEvery?: number;
      json?: boolean;
      hubUrl?: string;
    }) => {
      const every = options.checkpointEvery;
      if ((options.steps === undefined) !== (every === undefined)) {
        throw new UsageError("--steps and --checkpoint-every go together");
      }
      if (every === 0) {
        throw new UsageError("--checkpoint-every 0: the checkpoint interval must be at least 1");
      }
      const report = await verifyRepo({
        repo: options.repo,
        hubUrl: options.hubUrl,
        accessToken: optionalToken(),
        ...(options.steps !== undefined && every !== undefined
          ? { schedule: { steps: options.steps, every } }
          : {}),
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        process.stdout.write(
          `${report.repo}: ${report.revisions.length} revisions, ${report.expectedRevisions.length} expected (from ${report.expectedFrom})\n`,
        );
        for (const problem of report.problems) {
          process.stdout.write(`  ${problem}\n`);
        }
        process.stdout.write(report.ok ? "ok\n" : `${report.problems.length} problem(s)\n`);
      }
      if (!report.ok) {
        process.exitCode = 1;
      }
    },
  );

  root
    .command("revisions")
    .description("list the step{N} revisions, sorted by step")
    .requiredOption(...repoOption)
    .option(...hubUrlOption)
    .action(async (options: { repo: string; hubUrl?: string }) => {
      const revisions = await listRevisions({
        repo: options.repo,
        hubUrl: options.hubUrl,
        accessToken: optionalToken(),
      });
      for (const revision of revisions) {
        process.stdout.write(`${revision.revision}\t${revision.commit}\n`);
      }
    });
  return root;
}

async function main(): Promise<void> {
  await runCli({ name: "pythia-hub", program: program() });
}

await main();
