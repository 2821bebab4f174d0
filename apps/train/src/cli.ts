#!/usr/bin/env node
/**
 * `pythia-train`: tokenize a corpus, train a Pythia-shaped GPT-NeoX model, write Pythia's checkpoint
 * series, validate, plot the loss — or export the run as a GPT-NeoX YAML. Thin wiring over
 * `@pythia/dataloader`, `@pythia/model` and `@pythia/trainer`; user mistakes print one line.
 */
import { drain } from "@pythia/core";
import { deprecatedOption, integerArgument, numberArgument, runCli } from "@pythia/core/cli";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { preprocessIter, type PreprocessSummary } from "@pythia/dataloader";
import { exportNeoxCheckpoint, parameterCount } from "@pythia/model";
import {
  backendOption,
  presetArgument,
  startComputeFromOptions,
  threadsOption,
} from "@pythia/model/cli-options";
import { TokenizerError } from "@pythia/tokenizer";
import { bundledTokenizerPath } from "@pythia/tokenizer/node";
import {
  completeCheckpoints,
  parseTrainConfig,
  readMetrics,
  toNeoxTrainingYaml,
  train,
  type TrainConfig,
  type TrainingData,
} from "@pythia/trainer";
import { HubUploader, resolveToken } from "@pythia/hub";
import { Command, Option } from "commander";
import { writeBundledCorpusDocuments } from "./bundled-corpus.js";
import { CliError } from "./cli-error.js";

import { plotLossCurve } from "./plot.js";
import { createProgressDisplay, formatDuration, type ProgressDisplay } from "./progress.js";
import { finalReport } from "./report.js";
import { DEFAULTS, planRun, type CliOptions, type RunPlan } from "./run-plan.js";

const NAME = "pythia-train";

function buildProgram(version: string): Command {
  const int = (flags: string, description: string) =>
    new Option(flags, description).argParser(integerArgument);
  const program = new Command(NAME)
    .description(
      "Train a Pythia-shaped GPT-NeoX model: tokenize, train, write Pythia's checkpoint series (step0, step1, step2, step4, …), validate, plot the loss.\nWith no arguments: pythia-14m on the bundled Tiny Shakespeare, about 8 minutes on 2 CPU cores.",
    )
    .version(version)
    .addOption(
      new Option("--preset <name>", `a Pythia size, pythia-14m … pythia-12b (default: ${DEFAULTS.preset})`)
        .argParser(presetArgument)
        .conflicts("neoxConfig"),
    )
    .option(
      "--neox-config <file>",
      "a GPT-NeoX YAML (e.g. Pythia's pythia-160m.yml): the model, plus lr, min_lr, train-iters, warmup, weight-decay, checkpoint-factor, seq-length and batch sizes when it states them",
    )
    .addOption(
      new Option("--data <prefix>", "train on an existing tokenized dataset PREFIX.bin/PREFIX.idx").conflicts(
        "input",
      ),
    )
    .option(
      "--input <files...>",
      ".jsonl, .jsonl.zst or text files to tokenize into OUT/data first (default: the bundled Tiny Shakespeare)",
    )
    .addOption(int("--steps <n>", `optimizer steps (default: ${DEFAULTS.steps})`))
    .addOption(int("--batch-size <n>", `sequences per optimizer step (default: ${DEFAULTS.batchSize})`))
    .addOption(
      int(
        "--micro-batch-size <n>",
        "sequences per forward/backward; must divide --batch-size (default: the batch size)",
      ),
    )
    .addOption(int("--seq-length <n>", `tokens per sequence (default: ${DEFAULTS.seqLength})`))
    .addOption(
      new Option("--lr <rate>", `peak learning rate (default: ${DEFAULTS.lr})`).argParser(numberArgument),
    )
    .addOption(
      int(
        "--checkpoint-every <n>",
        `checkpoint interval after the log-spaced steps 0, 1, 2, 4, … (default: ${DEFAULTS.checkpointEvery})`,
      ),
    )
    .addOption(
      int("--eval-every <n>", `validate every n steps and at the end (default: ${DEFAULTS.evalEvery})`),
    )
    .option("--output <dir>", "run directory (default: runs/<model>-<date>-<time>)")
    .option("--resume", "continue the run in --output from its newest checkpoint, with its settings")
    .addOption(int("--seed <n>", `seed of the weights and the data order (default: ${DEFAULTS.seed})`))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option(
      "--repo <org/name>",
      "upload each checkpoint to the Hugging Face Hub as branch step{N} while training (token: HF_TOKEN)",
    )
    .option("--hub-url <url>", "Hub endpoint for --repo", "https://huggingface.co")
    .option(
      "--export-neox-config <file>",
      "write this run as a GPT-NeoX YAML (python ./deepy.py train.py FILE) and exit without training; with --resume, also its newest checkpoint as GPT-NeoX weights to continue from",
    )
    .exitOverride()
    .action((options: CliOptions & { output?: string; repo?: string }) =>
      trainCommand({ ...options, out: options.output, pushToHub: options.repo }),
    );
  deprecatedOption(program, "--out <dir>", "--output");
  return deprecatedOption(program, "--push-to-hub <repo>", "--repo");
}

async function trainCommand(options: CliOptions): Promise<void> {
  const plan = planRun(options);
  // Resolve the token before training, so a missing one fails in a second, not after an hour.
  const accessToken = options.pushToHub === undefined ? undefined : resolveToken();
  const config = parseTrainConfig(plan.config);
  if (!options.resume) {
    const existing = await completeCheckpoints(plan.out);
    if (existing.length > 0) {
      throw new CliError(
        1,
        `${plan.out} already holds a run (newest checkpoint step${existing[0]}); continue it with --resume, or choose another --output`,
      );
    }
  }
  // Ctrl-C (or SIGTERM) stops training between two steps; a second one, or one after training, exits at once.
  const controller = new AbortController();
  let running = true;
  const onInterrupt = () => {
    if (controller.signal.aborted || !running) {
      process.exit(130);
    }
    controller.abort();
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  let step = 0;
  try {
    if (options.exportNeoxConfig !== undefined) {
      await exportNeoxConfig(plan, config, options.exportNeoxConfig, controller.signal);
      return;
    }
    await startComputeFromOptions({ options, write: (line) => process.stderr.write(`${NAME}: ${line}\n`) });
    const data = await prepareData(plan, controller.signal);
    const uploader =
      options.pushToHub === undefined
        ? null
        : new HubUploader({
            repo: options.pushToHub,
            hubUrl: options.hubUrl,
            accessToken,
            runDir: plan.out,
            signal: controller.signal,
          });
    await runTraining(plan, config, data, controller.signal, (current) => (step = current), uploader);
    if (uploader !== null) {
      process.stderr.write(`${NAME}: waiting for ${uploader.size} upload(s) to ${options.pushToHub}\n`);
      const pushed = await uploader.drain();
      const verified = pushed.revisions.filter((revision) => revision.check.ok).length;
      process.stdout.write(
        `hub: ${options.hubUrl}/${pushed.repo}: ${verified}/${pushed.revisions.length} revisions verified (${pushed.revisions.map((revision) => revision.revision).join(", ")})${pushed.main ? `, main at ${pushed.main.final ?? "the model card"}` : ""}\n`,
      );
    }
  } catch (error) {
    if (controller.signal.aborted) {
      process.stderr.write(
        `${NAME}: stopped at step ${step}; resume with: ${NAME} --output ${plan.out} --resume\n`,
      );
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    running = false;
  }
}

async function runTraining(
  plan: RunPlan,
  config: TrainConfig,
  data: TrainingData,
  signal: AbortSignal,
  onStep: (step: number) => void,
  uploader: HubUploader | null = null,
): Promise<void> {
  const parameters = parameterCount(config.model).total.toLocaleString("en-US");
  const shape = `${config.steps} steps of ${config.batchSize} × ${config.seqLength} tokens (micro-batch ${config.microBatchSize})`;
  process.stderr.write(
    plan.continuing
      ? `${NAME}: resuming ${plan.out} (${parameters} parameters, ${shape}) on ${data.prefix}\n`
      : `${NAME}: training ${plan.modelName} (${parameters} parameters) for ${shape} on ${data.prefix}; run directory ${plan.out}\n`,
  );
  const started = performance.now();
  const display: ProgressDisplay = await createProgressDisplay();
  let fromStep = 0;
  let summary;
  try {
    summary = await train({
      config: plan.config,
      data,
      out: plan.out,
      resume: plan.resume,
      signal,
      onEvent: (event) => {
        if (event.type === "run-start") {
          fromStep = event.fromStep;
          onStep(event.fromStep);
          if (event.resumed) {
            display.log(`resumed from step${event.fromStep}`);
          }
        } else if (event.type === "step-end") {
          onStep(event.step);
        } else if (event.type === "checkpoint-written") {
          // Uploads run in the background; training does not wait for them.
          uploader?.enqueue(event.dir);
        }
        display.onEvent(event);
      },
    });
  } finally {
    display.stop();
  }
  const plot = await plotLossCurve({ out: plan.out, title: `${plan.modelName}: loss` });
  const report = finalReport({
    out: plan.out,
    modelName: plan.modelName,
    steps: config.steps,
    fromStep,
    summary,
    metrics: readMetrics(plan.out),
    checkpoints: await completeCheckpoints(plan.out),
    plot,
    elapsedMs: performance.now() - started,
    alreadyFinished: fromStep >= config.steps,
  });
  process.stdout.write(`${report.join("\n")}\n`);
}

/** The training data: the given dataset, or the inputs (the bundled corpus by default) tokenized into OUT/data. */
async function prepareData(plan: RunPlan, signal: AbortSignal): Promise<TrainingData> {
  if (plan.data.kind === "dataset") {
    return plan.data.data;
  }
  mkdirSync(dirname(plan.data.outputPrefix), { recursive: true });
  const splitDir = join(dirname(plan.data.outputPrefix), ".bundled-corpus");
  const inputs = plan.data.bundled ? writeBundledCorpusDocuments(splitDir) : plan.data.inputs;
  process.stderr.write(
    `${NAME}: tokenizing ${plan.data.bundled ? "the bundled Tiny Shakespeare" : inputs.join(", ")}\n`,
  );
  const iterator = preprocessIter({ inputs, outputPrefix: plan.data.outputPrefix, workers: 1, signal });
  let summary: PreprocessSummary;
  let lastLine = performance.now();
  try {
    summary = await drain(iterator, (event) => {
      if (event.type === "progress" && performance.now() - lastLine >= 10_000) {
        lastLine = performance.now();
        const percent = ((100 * event.bytesRead) / Math.max(event.totalBytes, 1)).toFixed(0);
        process.stderr.write(`  ${percent}%: ${event.documents} documents, ${event.tokens} tokens\n`);
      }
    });
  } finally {
    if (plan.data.bundled) {
      rmSync(splitDir, { recursive: true, force: true });
    }
  }
  process.stderr.write(
    `${NAME}: wrote ${summary.prefix}.bin/.idx: ${summary.documents} documents, ${summary.tokens.toLocaleString("en-US")} tokens in ${formatDuration(summary.elapsedMs)}\n`,
  );
  return { kind: "index-map", prefix: summary.prefix };
}

async function exportNeoxConfig(
  plan: RunPlan,
  config: TrainConfig,
  file: string,
  signal: AbortSignal,
): Promise<void> {
  const data = await prepareData(plan, signal);
  const saveDir = resolve(plan.out, "neox-checkpoints");
  let yaml = toNeoxTrainingYaml({
    config,
    dataPrefix: resolve(data.prefix),
    vocabFile: bundledTokenizerPath(),
    saveDir,
  });
  // A run with checkpoints continues in GPT-NeoX from its newest one: its weights go to the folder the
  // YAML loads from, in the layout of GPT-NeoX's defaults (pipe-parallel-size 0: sequential, one rank),
  // and GPT-NeoX is told not to look for optimizer or RNG states, which a weights-only export lacks.
  const [newest] = await completeCheckpoints(plan.out);
  if (newest !== undefined) {
    await exportNeoxCheckpoint({
      checkpoint: join(plan.out, `step${newest}`),
      out: saveDir,
      step: newest,
      layout: "sequential",
      modelParallel: 1,
      overwrite: true,
    });
    yaml += [
      `# Continues from ${join(plan.out, `step${newest}`)} (weights only, exported to ${saveDir}/global_step${newest}):`,
      "no_load_optim: true",
      "no_load_rng: true",
      "",
    ].join("\n");
  }
  try {
    writeFileSync(file, yaml);
  } catch (error) {
    throw new CliError(1, `cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  process.stdout.write(
    [
      `${NAME}: wrote ${file}: ${plan.modelName}, ${config.steps} steps of ${config.batchSize} × ${config.seqLength} tokens on ${data.prefix}`,
      ...(newest === undefined
        ? []
        : [
            `  with the weights of step${newest} as GPT-NeoX checkpoint ${join(saveDir, `global_step${newest}`)}`,
          ]),
      `  train it with GPT-NeoX + DeepSpeed, from a GPT-NeoX checkout: python ./deepy.py train.py ${resolve(file)}`,
      "",
    ].join("\n"),
  );
}

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = buildProgram(manifest.version);
  await runCli({
    name: NAME,
    program,
    isUserError: (error) => error instanceof CliError || TokenizerError.isInstance(error),
  });
}

await main();
// Exit now rather than when the event loop drains: a tokenizer worker left behind by a failed
// preprocessing must not keep the process alive (stdout and stderr are synchronous here).
process.exit();
