#!/usr/bin/env node
/**
 * `pythia-analyze`: the @pythia/analyses analyses over a training run's checkpoints, writing JSON
 * and plots. One file per subcommand under commands/, each parsing flags, calling the library and
 * printing; user mistakes print one line (exit 1, usage: exit 2).
 */
import { deprecatedOption, runCli } from "@pythia/core/cli";
import { backendOption, threadsOption } from "@pythia/model/cli-options";
import { TokenizerError } from "@pythia/tokenizer";
import { Command } from "commander";
import { readFileSync } from "node:fs";
import { genderBiasCommand } from "./commands/gender-bias.js";
import { interveneCommand } from "./commands/intervene.js";
import { logitLensCommand } from "./commands/logit-lens.js";
import { memorizationCommand } from "./commands/memorization.js";
import { poissonCommand } from "./commands/poisson.js";
import { termFrequencyCommand } from "./commands/term-frequency.js";
import { tunedLensCommand } from "./commands/tuned-lens.js";

/**
 * Old spellings, kept hidden for one minor version with a deprecation notice
 * (docs/cli-conventions.md): each is added to the subcommands that have its replacement.
 */
const OLD_SPELLINGS = [
  ["--out <dir>", "--output"],
  ["--steps <list>", "--checkpoint-steps"],
  ["--step <n>", "--checkpoint-step"],
] as const;

async function main(argv: string[]): Promise<void> {
  const program = new Command("pythia-analyze")
    .description(
      "Pythia's analyses over a training run: memorization, Poisson check, term frequency, gender bias, logit and tuned lens",
    )
    .version(
      (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
        .version,
    )
    .exitOverride();
  for (const command of [
    memorizationCommand(),
    poissonCommand(),
    termFrequencyCommand(),
    interveneCommand(),
    genderBiasCommand(),
    logitLensCommand(),
    tunedLensCommand(),
  ]) {
    if (command.name() !== "poisson") {
      command.addOption(backendOption()).addOption(threadsOption());
    }
    for (const [old, replacement] of OLD_SPELLINGS) {
      if (command.options.some((option) => option.long === replacement)) {
        deprecatedOption(command, old, replacement);
      }
    }
    program.addCommand(command.exitOverride());
  }
  await runCli({
    name: "pythia-analyze",
    program,
    argv,
    isUserError: (error) => TokenizerError.isInstance(error),
  });
}

await main(process.argv);
