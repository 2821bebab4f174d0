/** The `pythia-train` command line: every flag, its default and its help. */
import {
  checkedArgument,
  deprecatedOption,
  integerArgument,
  positiveIntegerArgument,
  positiveNumberArgument,
} from "@pythia/core/cli";
import { backendOption, presetArgument, threadsOption } from "@pythia/model/cli-options";
import { checkRepoName } from "@pythia/hub";
import { Command, Option } from "commander";
import { NAME } from "./name.js";
import { DEFAULTS, type CliOptions } from "./run-plan.js";

/** The program; `action` receives the parsed options. */
export function buildProgram(version: string, action: (options: CliOptions) => Promise<void>): Command {
  const int = (flags: string, description: string) =>
    new Option(flags, description).argParser(integerArgument);
  // A count that must be at least 1 (the trainer would refuse 0 only after parsing, as exit 1).
  const positive = (flags: string, description: string) =>
    new Option(flags, description).argParser(positiveIntegerArgument);
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
    .option(
      "--strict",
      "refuse --input that is not UTF-8 (default: replace such bytes by U+FFFD and warn, as pythia-data preprocess)",
    )
    .addOption(positive("--steps <n>", `optimizer steps (default: ${DEFAULTS.steps})`))
    .addOption(positive("--batch-size <n>", `sequences per optimizer step (default: ${DEFAULTS.batchSize})`))
    .addOption(
      positive(
        "--micro-batch-size <n>",
        "sequences per forward/backward; must divide --batch-size (default: the batch size)",
      ),
    )
    .addOption(positive("--seq-length <n>", `tokens per sequence (default: ${DEFAULTS.seqLength})`))
    .addOption(
      new Option("--lr <rate>", `peak learning rate (default: ${DEFAULTS.lr})`).argParser(
        positiveNumberArgument,
      ),
    )
    .addOption(
      positive(
        "--checkpoint-every <n>",
        `checkpoint interval after the log-spaced steps 0, 1, 2, 4, … (default: ${DEFAULTS.checkpointEvery})`,
      ),
    )
    .addOption(
      int("--eval-every <n>", `validate every n steps and at the end (default: ${DEFAULTS.evalEvery})`),
    )
    .option("--output <dir>", "run directory (default: runs/<model>-<date>-<time>)")
    .option(
      "--resume",
      "continue the run in --output from its newest checkpoint that verifies, with its settings and its data",
    )
    .option(
      "--allow-data-change",
      "with --resume: continue on data other than the run's (--data, or a changed --input); recorded in run.json",
    )
    .addOption(int("--seed <n>", `seed of the weights and the data order (default: ${DEFAULTS.seed})`))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(
      new Option(
        "--repo <org/name>",
        "upload each checkpoint to the Hugging Face Hub as branch step{N} while training (token: HF_TOKEN)",
      ).argParser(checkedArgument(checkRepoName)),
    )
    .option("--hub-url <url>", "Hub endpoint for --repo", "https://huggingface.co")
    .option(
      "--export-neox-config <file>",
      "write this run as a GPT-NeoX YAML (python ./deepy.py train.py FILE) and exit without training; with --resume, also its newest checkpoint as GPT-NeoX weights to continue from",
    )
    .exitOverride()
    .action((options: CliOptions & { output?: string; repo?: string }) =>
      action({ ...options, out: options.output, pushToHub: options.repo }),
    );
  deprecatedOption(program, "--out <dir>", "--output");
  return deprecatedOption(program, "--push-to-hub <repo>", "--repo");
}
