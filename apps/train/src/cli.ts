#!/usr/bin/env node
/**
 * `pythia-train`: tokenize a corpus, train a Pythia-shaped GPT-NeoX model, write Pythia's checkpoint
 * series, validate, plot the loss — or export the run as a GPT-NeoX YAML. Thin wiring over
 * `@pythia/dataloader`, `@pythia/model` and `@pythia/trainer`; user mistakes print one line.
 */
import { runCli } from "@pythia/core/cli";
import { assertNoCheckpoints, completeCheckpointSteps } from "@pythia/core/run";
import { HubUploader, resolveToken } from "@pythia/hub";
import { startComputeFromOptions } from "@pythia/model/cli-options";
import { TokenizerError } from "@pythia/tokenizer";
import { parseTrainConfig } from "@pythia/trainer";
import { existsSync, readFileSync } from "node:fs";
import { CliError } from "./cli-error.js";
import { NAME } from "./name.js";
import { exportNeoxConfig, prepareData } from "./prepare-data.js";
import { buildProgram } from "./program.js";
import { runTraining } from "./run-training.js";
import { planRun, type CliOptions } from "./run-plan.js";

/** Plans the run from the options, then exports it, or prepares the data and trains (pushing when asked). */
async function trainCommand(options: CliOptions): Promise<void> {
  const plan = planRun(options);
  // Resolve the token before training, so a missing one fails in a second, not after an hour.
  const accessToken = options.pushToHub === undefined ? undefined : resolveToken();
  const config = parseTrainConfig(plan.config);
  if (!options.resume) {
    // Before tokenizing anything; the trainer checks again.
    await assertNoCheckpoints({
      dir: plan.out,
      hint: "continue it with --resume, or choose another --output",
    });
  } else if (
    !plan.continuing &&
    !(existsSync(plan.out) && (await completeCheckpointSteps({ dir: plan.out })).length > 0)
  ) {
    // Still a success: a Slurm requeue loop runs the same --resume command for the first attempt too.
    process.stderr.write(
      `${NAME}: note: --resume: ${plan.out} holds no run (no run.json, no checkpoint); nothing to resume there, starting a new run\n`,
    );
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
    const { data, source } = await prepareData(plan, controller.signal);
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
    await runTraining(
      plan,
      config,
      data,
      controller.signal,
      (current: number) => (step = current),
      uploader,
      source,
    );
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

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = buildProgram(manifest.version, trainCommand);
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
