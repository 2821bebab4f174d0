#!/usr/bin/env node
/**
 * `pythia-eval`: lm-evaluation-harness v0.3.0-compatible evaluation of GPT-NeoX checkpoints from the
 * shell. Thin wiring over the library; user mistakes print one line.
 */
import { deprecatedOption, integerArgument, runCli } from "@pythia/core/cli";
import { mkdirSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "@pythia/core";
import { dirname } from "node:path";
import { loadCheckpoint } from "@pythia/model";
import { backendOption, startComputeFromOptions, threadsOption } from "@pythia/model/cli-options";
import { loadPileTokenizer, TokenizerError } from "@pythia/tokenizer";
import { Command, InvalidArgumentError } from "commander";
import { buildTaskRequests } from "./build-requests.js";
import { checkpointRevision } from "./checkpoint-revision.js";
import { evaluate, type EvaluateEvent } from "./evaluate.js";
import { formatResultsTable, readResultsFile } from "./results-format.js";
import { ScoreCache } from "./score-cache.js";
import { sweep } from "./sweep.js";
import { getTask, PYTHIA_TASKS } from "./task-registry.js";
import { TfjsLoglikelihoodModel } from "./tfjs-loglikelihood-model.js";

function taskList(value: string): string[] {
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0) {
    throw new InvalidArgumentError(`give at least one task (${PYTHIA_TASKS.join(",")}, wsc273)`);
  }
  for (const name of names) {
    try {
      getTask(name);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  }
  return names;
}

/** `requests` dumps one task: `--tasks` with exactly one known name. */
function oneTask(value: string): string {
  const [name, ...more] = taskList(value);
  if (name === undefined || more.length > 0) {
    throw new InvalidArgumentError(`give exactly one task, got "${value}"`);
  }
  return name;
}

async function startCompute(options: { backend?: string; threads?: number }): Promise<string> {
  const info = await startComputeFromOptions({
    options,
    write: (line) => process.stderr.write(`pythia-eval: ${line}\n`),
  });
  return info.backend;
}

/** Replaces `path` whole (a temporary sibling renamed onto it): never a half-written output. */
function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, text);
}

/** Prints progress to stderr at most every 2 s, and each task's end. */
function progressPrinter(prefix = ""): (event: EvaluateEvent) => void {
  let last = 0;
  return (event) => {
    if (event.type === "task-start") {
      process.stderr.write(
        `pythia-eval: ${prefix}${event.task}: ${event.docs} docs, ${event.requests} requests\n`,
      );
    } else if (event.type === "score-progress") {
      const now = performance.now();
      if (now - last > 2000 || event.done === event.total) {
        last = now;
        const eta = event.etaSeconds === null ? "?" : `${Math.round(event.etaSeconds)}s`;
        process.stderr.write(
          `pythia-eval: ${prefix}${event.task}: ${event.done}/${event.total} requests (${event.cached} cached), ${event.requestsPerSecond.toFixed(1)} req/s, ${Math.round(event.tokensPerSecond)} tok/s, eta ${eta}\n`,
        );
      }
    } else {
      process.stderr.write(`pythia-eval: ${prefix}${event.task}: done in ${event.seconds.toFixed(1)}s\n`);
    }
  };
}

function runCommand(): Command {
  const command = new Command("run")
    .description("evaluate one checkpoint; writes the harness's results JSON and prints its table")
    .requiredOption("--checkpoint <dir>", "checkpoint directory (config.json + model.safetensors)")
    .requiredOption("--tasks <names>", `comma-separated tasks (${PYTHIA_TASKS.join(",")}, wsc273)`, taskList)
    .requiredOption("--data-dir <dir>", "folder with the task files in their original formats")
    .requiredOption("--output <file>", "results JSON to write")
    .option("--num-fewshot <k>", "few-shot examples per context", integerArgument, 0)
    .option("--limit <n>", "only the first n docs of each task (harness order)", integerArgument)
    .option("--batch-size <n>", "rows per forward pass", integerArgument, 16)
    .option("--cache-file <file>", "JSONL score cache; an interrupted run resumes from it")
    .option("--bootstrap-iters <n>", "bootstrap resamples for perplexity's stderr", integerArgument, 100_000)
    .option("--compare <file>", "another results JSON (e.g. Pythia's) to show deltas against")
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(
      async (options: {
        checkpoint: string;
        tasks: string[];
        dataDir: string;
        output: string;
        numFewshot: number;
        limit?: number;
        batchSize: number;
        cacheFile?: string;
        bootstrapIters: number;
        compare?: string;
        backend?: string;
      }) => {
        const compare = options.compare === undefined ? undefined : readResultsFile(options.compare);
        const backend = await startCompute(options);
        const tokenizer = await loadPileTokenizer();
        const model = await loadCheckpoint({ dir: options.checkpoint, trainable: false });
        const scorer = new TfjsLoglikelihoodModel({ model });
        const cache =
          options.cacheFile === undefined
            ? undefined
            : new ScoreCache({
                path: options.cacheFile,
                revision: await checkpointRevision(options.checkpoint),
              });
        const results = await evaluate({
          model: scorer,
          tokenizer,
          tasks: options.tasks,
          dataDir: options.dataDir,
          numFewshot: options.numFewshot,
          limit: options.limit ?? null,
          batchSize: options.batchSize,
          bootstrapIters: options.bootstrapIters,
          modelArgs: `checkpoint=${options.checkpoint}`,
          device: backend,
          ...(cache === undefined ? {} : { cache }),
          onEvent: progressPrinter(),
        });
        writeFile(options.output, `${JSON.stringify(results, null, 2)}\n`);
        process.stdout.write(`${formatResultsTable(results, compare)}\n`);
        scorer.dispose();
        model.dispose();
      },
    );
  return deprecatedOption(command, "--cache <file>", "--cache-file");
}

function requestsCommand(): Command {
  const command = new Command("requests")
    .description(
      'dump every request of every doc, without a model: {"doc", "context", "continuation"} per line',
    )
    .requiredOption("--tasks <name>", "the task (one name)", oneTask)
    .requiredOption("--data-dir <dir>", "folder with the task files in their original formats")
    .requiredOption("--output <file>", "JSONL file to write")
    .option("--num-fewshot <k>", "few-shot examples per context", integerArgument, 0)
    .option("--limit <n>", "only the first n docs (harness order)", integerArgument)
    .action(
      (options: { tasks: string; dataDir: string; output: string; numFewshot: number; limit?: number }) => {
        const built = buildTaskRequests({
          task: options.tasks,
          dataDir: options.dataDir,
          numFewshot: options.numFewshot,
          limit: options.limit ?? null,
        });
        let text = "";
        let count = 0;
        for (const doc of built.docs) {
          for (const request of doc.requests) {
            text += `${JSON.stringify({ doc: doc.docId, context: request.context, continuation: request.continuation })}\n`;
            count++;
          }
        }
        writeFile(options.output, text);
        process.stderr.write(`pythia-eval: ${options.tasks}: ${built.docs.length} docs, ${count} requests\n`);
      },
    );
  deprecatedOption(command, "--out <file>", "--output");
  return deprecatedOption(command, "--task <name>", "--tasks");
}

function sweepCommand(): Command {
  return new Command("sweep")
    .description(
      "evaluate every complete step{N} checkpoint of a training run; writes metrics.csv/json by step",
    )
    .requiredOption("--run <dir>", "training run directory (step{N}/ checkpoints, as apps/train writes)")
    .requiredOption("--tasks <names>", "comma-separated tasks", taskList)
    .requiredOption("--data-dir <dir>", "folder with the task files in their original formats")
    .requiredOption("--output <dir>", "output folder: step{N}.json, metrics.csv, metrics.json, scores.jsonl")
    .option("--num-fewshot <k>", "few-shot examples per context", integerArgument, 0)
    .option("--limit <n>", "only the first n docs of each task (harness order)", integerArgument)
    .option("--batch-size <n>", "rows per forward pass", integerArgument, 16)
    .option("--bootstrap-iters <n>", "bootstrap resamples for perplexity's stderr", integerArgument, 100_000)
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(
      async (options: {
        run: string;
        tasks: string[];
        dataDir: string;
        output: string;
        numFewshot: number;
        limit?: number;
        batchSize: number;
        bootstrapIters: number;
        backend?: string;
      }) => {
        await startCompute(options);
        const tokenizer = await loadPileTokenizer();
        const printers = new Map<number, (event: EvaluateEvent) => void>();
        const result = await sweep({
          runDir: options.run,
          tasks: options.tasks,
          dataDir: options.dataDir,
          tokenizer,
          outputDir: options.output,
          numFewshot: options.numFewshot,
          limit: options.limit ?? null,
          batchSize: options.batchSize,
          bootstrapIters: options.bootstrapIters,
          onEvent: (event) => {
            if (event.type === "checkpoint-start") {
              process.stderr.write(`pythia-eval: step ${event.step} (${event.index + 1}/${event.count})\n`);
              printers.set(event.step, progressPrinter(`step ${event.step}: `));
            } else if (event.type === "warning") {
              process.stderr.write(`warning: ${event.message}\n`);
            } else if (event.type === "checkpoint-end") {
              if (event.reused) {
                process.stderr.write(
                  `pythia-eval: step ${event.step}: results already in ${options.output}\n`,
                );
              }
            } else {
              printers.get(event.step)?.(event);
            }
          },
        });
        const metrics = [...new Set(result.rows.map((row) => `${row.task}/${row.metric}`))];
        const header = ["step", ...metrics];
        const lines = Object.keys(result.results)
          .map(Number)
          .sort((a, b) => a - b)
          .map((step) =>
            [
              String(step),
              ...metrics.map((key) => {
                const [task, metric] = key.split("/") as [string, string];
                const value = result.results[step]?.results[task]?.[metric];
                return value === undefined ? "" : value.toFixed(4);
              }),
            ].join("\t"),
          );
        process.stdout.write(`${[header.join("\t"), ...lines].join("\n")}\n`);
        process.stderr.write(
          `pythia-eval: plots ${result.plots.map((plot) => plot.png ?? plot.svg).join(", ")}\n`,
        );
      },
    );
}

function tableCommand(): Command {
  return new Command("table")
    .description("print a results JSON as the harness's table, optionally with deltas against another")
    .argument("<results>", "results JSON")
    .option("--compare <file>", "another results JSON")
    .action((results: string, options: { compare?: string }) => {
      const ours = readResultsFile(results);
      const theirs = options.compare === undefined ? undefined : readResultsFile(options.compare);
      process.stdout.write(`${formatResultsTable(ours, theirs)}\n`);
    });
}

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = new Command("pythia-eval")
    .description("lm-evaluation-harness v0.3.0-compatible evaluation of GPT-NeoX (Pythia) checkpoints")
    .version(manifest.version)
    .showHelpAfterError()
    .exitOverride();
  for (const command of [runCommand(), requestsCommand(), sweepCommand(), tableCommand()]) {
    program.addCommand(command.exitOverride().showHelpAfterError());
  }
  await runCli({ name: "pythia-eval", program, isUserError: (error) => TokenizerError.isInstance(error) });
}

await main();
