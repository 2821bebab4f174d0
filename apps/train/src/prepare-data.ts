/** The training data of a plan: an existing dataset, or files tokenized into OUT/data; and the GPT-NeoX export. */
import { drain } from "@pythia/core";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { checkpointDir, completeCheckpointSteps } from "@pythia/core/run";
import { preprocessIter, type PreprocessSummary } from "@pythia/dataloader";
import { exportNeoxCheckpoint } from "@pythia/model";
import { bundledTokenizerPath } from "@pythia/tokenizer/node";
import { toNeoxTrainingYaml, type TrainConfig, type TrainingData } from "@pythia/trainer";
import { writeBundledCorpusDocuments } from "./bundled-corpus.js";
import { CliError } from "./cli-error.js";
import { NAME } from "./name.js";
import { formatDuration } from "./progress.js";
import type { RunPlan } from "./run-plan.js";

/** The training data: the given dataset, or the inputs (the bundled corpus by default) tokenized into OUT/data. */
export async function prepareData(plan: RunPlan, signal: AbortSignal): Promise<TrainingData> {
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

/** Writes the plan as a GPT-NeoX YAML (tokenizing its data first) instead of training. */
export async function exportNeoxConfig(
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
  // completeCheckpointSteps ascends: the newest is the last.
  const newest = (await completeCheckpointSteps({ dir: plan.out })).at(-1);
  if (newest !== undefined) {
    await exportNeoxCheckpoint({
      checkpoint: checkpointDir(plan.out, newest),
      out: saveDir,
      step: newest,
      layout: "sequential",
      modelParallel: 1,
      overwrite: true,
    });
    yaml += [
      `# Continues from ${checkpointDir(plan.out, newest)} (weights only, exported to ${saveDir}/global_step${newest}):`,
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
