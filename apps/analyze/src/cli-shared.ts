/** What every pythia-analyze subcommand shares: output, logging, the series options, compute start-up. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openCheckpointSeries, type CheckpointSeries } from "@pythia/analyses";
import { writeFileAtomic } from "@pythia/core";
import { integerArgument } from "@pythia/core/cli";
import { startComputeFromOptions } from "@pythia/model/cli-options";
import type { Command } from "commander";

/** Writes `<out>/<name>` as indented JSON (atomically); returns its path. */
export function writeJson(out: string, name: string, value: unknown): string {
  mkdirSync(out, { recursive: true });
  const path = join(out, name);
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

/** One progress line on stderr. */
export function log(message: string): void {
  process.stderr.write(`pythia-analyze: ${message}\n`);
}

/** `--run` and the options that describe a checkpoint series without a run.json. */
export function withSeries(command: Command, rowsNeeded: boolean): Command {
  return command
    .requiredOption(
      "--run <dir>",
      "a pythia-train run, a folder of step{N}/ HF checkpoints (e.g. a converted GPT-NeoX run) or a pythia-hub pull folder",
    )
    .option(
      "--data <prefix>",
      rowsNeeded
        ? "pre-shuffled .bin/.idx rows in training order (needed without a run.json; overrides a run's own data)"
        : "pre-shuffled .bin/.idx rows in training order",
    )
    .option(
      "--rows-per-step <n>",
      "without a run.json: rows per optimizer step (Pythia: 1024)",
      integerArgument,
      1024,
    )
    .option(
      "--seq-length <n>",
      "without a run.json: sequence length, rows hold one more token (Pythia: 2048)",
      integerArgument,
      2048,
    );
}

/** The series `withSeries`'s options name. */
export function openSeries(options: {
  run: string;
  data?: string;
  rowsPerStep: number;
  seqLength: number;
}): Promise<CheckpointSeries> {
  return openCheckpointSeries({
    dir: options.run,
    dataPrefix: options.data,
    batchSize: options.rowsPerStep,
    seqLength: options.seqLength,
  });
}

/** Starts the compute backend from `--backend` / `--threads`, logging the choice. */
export async function startCompute(options: { backend?: string; threads?: number }): Promise<void> {
  await startComputeFromOptions({ options, write: log });
}
