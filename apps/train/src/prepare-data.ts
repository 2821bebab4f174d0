/** The training data of a plan: an existing dataset, or files tokenized into OUT/data; and the GPT-NeoX export. */
import { drain } from "@pythia/core";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import {
  checkpointDir,
  compareDataIdentity,
  completeCheckpointSteps,
  fileIdentity,
  RUN_JSON,
  type DataIdentityChange,
  type RunJson,
} from "@pythia/core/run";
import { preprocessIter, type PreprocessSummary } from "@pythia/dataloader";
import { exportNeoxCheckpoint } from "@pythia/model";
import { bundledTokenizerPath, invalidUtf8Warning } from "@pythia/tokenizer/node";
import {
  dataChangedError,
  runTrainingInput,
  toNeoxTrainingYaml,
  type DataSource,
  type TrainConfig,
  type TrainingData,
} from "@pythia/trainer";
import { writeBundledCorpusDocuments } from "./bundled-corpus.js";
import { CliError } from "./cli-error.js";
import { NAME } from "./name.js";
import { formatDuration } from "./progress.js";
import type { RunPlan } from "./run-plan.js";

/** The data a run trains on, and what it was tokenized from when this command tokenized it. */
export interface PreparedData {
  data: TrainingData;
  /** Set when the inputs were tokenized now (recorded in run.json's dataIdentity). */
  source?: DataSource;
}

/**
 * The training data: the given dataset, or the inputs (the bundled corpus by default) tokenized into
 * OUT/data. With `--resume --input`, the inputs are compared with those run.json records: unchanged, the
 * run's own tokenized data is reused; changed, it is an error unless `--allow-data-change`, which
 * tokenizes them into a new prefix. A resume never tokenizes over data the run holds.
 */
export async function prepareData(plan: RunPlan, signal: AbortSignal): Promise<PreparedData> {
  if (plan.data.kind === "dataset") {
    return { data: plan.data.data };
  }
  const { resuming } = plan.data;
  if (resuming !== undefined) {
    const reused = await reuseRunData(plan, resuming, plan.data.inputs);
    if (reused !== null) {
      return reused;
    }
  }
  let outputPrefix = plan.data.outputPrefix;
  if (plan.resume) {
    // Never over the data of the run being resumed: a new prefix when that one is taken.
    for (let n = 2; existsSync(`${outputPrefix}_text_document.idx`); n++) {
      outputPrefix = `${plan.data.outputPrefix}-${n}`;
    }
  }
  // A failure removes what this call made: the first folder it created (OUT, or OUT/data) and the
  // dataset files that were not there before, leaving nothing half-made.
  const written = [".bin", ".idx"]
    .map((ext) => `${outputPrefix}_text_document${ext}`)
    .filter((file) => !existsSync(file));
  const created = mkdirSync(dirname(outputPrefix), { recursive: true });
  const splitDir = join(dirname(outputPrefix), ".bundled-corpus");
  let summary: PreprocessSummary;
  let source: DataSource;
  try {
    const inputs = plan.data.bundled ? writeBundledCorpusDocuments(splitDir) : plan.data.inputs;
    process.stderr.write(
      `${NAME}: tokenizing ${plan.data.bundled ? "the bundled Tiny Shakespeare" : inputs.join(", ")}\n`,
    );
    // preprocess's default tokenizer is the bundled GPT-NeoX-20B one.
    source = {
      tokenizer: await fileIdentity({ path: bundledTokenizerPath() }),
      ...(plan.data.bundled
        ? {}
        : { inputs: await Promise.all(inputs.map((input) => fileIdentity({ path: resolve(input) }))) }),
    };
    const iterator = preprocessIter({ inputs, outputPrefix, workers: 1, strict: plan.strict, signal });
    let lastLine = performance.now();
    summary = await drain(iterator, (event) => {
      // The line pythia-data preprocess and pythia-tokenize print (docs/decisions/0018-text-input-rules.md).
      if (event.type === "invalid-utf8") {
        process.stderr.write(`${invalidUtf8Warning(event)}\n`);
      } else if (event.type === "progress" && performance.now() - lastLine >= 10_000) {
        lastLine = performance.now();
        const percent = ((100 * event.bytesRead) / Math.max(event.totalBytes, 1)).toFixed(0);
        process.stderr.write(`  ${percent}%: ${event.documents} documents, ${event.tokens} tokens\n`);
      }
    });
  } catch (error) {
    for (const file of written) {
      rmSync(file, { force: true });
    }
    if (created !== undefined) {
      rmSync(created, { recursive: true, force: true });
    }
    throw error;
  } finally {
    if (plan.data.bundled) {
      rmSync(splitDir, { recursive: true, force: true });
    }
  }
  process.stderr.write(
    `${NAME}: wrote ${summary.prefix}.bin/.idx: ${summary.documents} documents, ${summary.tokens.toLocaleString("en-US")} tokens in ${formatDuration(summary.elapsedMs)}\n`,
  );
  return { data: { kind: "index-map", prefix: summary.prefix }, source };
}

/**
 * `--resume --input FILES`: the run's own data when FILES are what it tokenized (or, for a run that
 * did not record its inputs, when it holds tokenized data); `null` to tokenize FILES anew (allowed
 * changes only).
 * @throws TrainingError (`DATA_CHANGED`) naming the changed file and field, without `--allow-data-change`.
 */
async function reuseRunData(plan: RunPlan, run: RunJson, files: string[]): Promise<PreparedData | null> {
  const own = runTrainingInput(run).data;
  const holdsData = existsSync(`${own.prefix}.idx`) && !relative(run.dir, own.prefix).startsWith("..");
  const recorded = run.dataIdentity;
  if (recorded === null) {
    if (!holdsData) {
      return null;
    }
    process.stderr.write(
      `${NAME}: note: ${join(run.dir, RUN_JSON)} does not record which files the run tokenized (an older run); resuming on the data it holds, ${own.prefix}, without tokenizing --input again\n`,
    );
    return { data: own };
  }
  const inputs = await Promise.all(files.map((file) => fileIdentity({ path: resolve(file) })));
  const changes: DataIdentityChange[] =
    recorded.inputs === undefined
      ? [{ field: "inputs", previous: null, current: inputs.map((input) => input.path).join(", ") }]
      : compareDataIdentity(recorded, { ...recorded, inputs });
  if (changes.length === 0 && holdsData) {
    process.stderr.write(
      `${NAME}: --input is what the run tokenized (same sha256); resuming on ${own.prefix} without tokenizing again\n`,
    );
    return { data: own };
  }
  if (changes.length > 0 && !plan.allowDataChange) {
    throw dataChangedError({ out: plan.out, recorded, changes, override: "pass --allow-data-change" });
  }
  return null;
}

/** Writes the plan as a GPT-NeoX YAML (tokenizing its data first) instead of training. */
export async function exportNeoxConfig(
  plan: RunPlan,
  config: TrainConfig,
  file: string,
  signal: AbortSignal,
): Promise<void> {
  const { data } = await prepareData(plan, signal);
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
