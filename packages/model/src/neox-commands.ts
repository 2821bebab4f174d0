/**
 * `pythia-model import-neox` and `export-neox`: GPT-NeoX checkpoints in and out. Thin wiring over
 * `importNeoxCheckpoint` / `exportNeoxCheckpoint`; progress goes to stderr, the summary to stdout.
 */
import { deprecatedOption, integerArgument, positiveIntegerArgument } from "@pythia/core/cli";
import { existsSync } from "node:fs";
import { Command, Option } from "commander";
import { exportNeoxCheckpoint } from "./export-neox.js";
import { importNeoxCheckpoint } from "./import-neox.js";
import { ModelError } from "./model-errors.js";

const progress = (line: string): void => {
  process.stderr.write(`pythia-model: ${line}\n`);
};

/** `pythia-model import-neox --checkpoint DIR --output HF_DIR [--config YAML]`. */
export function importNeoxCommand(): Command {
  const command = new Command("import-neox")
    .description(
      "convert a GPT-NeoX (DeepSpeed) checkpoint into a Hugging Face folder, merging model-parallel ranks exactly as EleutherAI's convert_neox_to_hf.py",
    )
    .requiredOption("--checkpoint <dir>", "GPT-NeoX save folder (with latest) or one global_stepN folder")
    .requiredOption(
      "--output <dir>",
      "Hugging Face folder to write (config.json, model.safetensors, tokenizer)",
    )
    .option("--config <yaml>", "the run's GPT-NeoX YAML (default: configs/*.yml next to the checkpoint)")
    .addOption(
      new Option("--dtype <dtype>", "stored dtype; auto follows the YAML's fp16/bf16 like the converter")
        .choices(["auto", "F32", "F16", "BF16"])
        .default("auto"),
    )
    .option("--no-tokenizer", "do not copy the GPT-NeoX-20B tokenizer files")
    .option("--overwrite", "replace --output if it exists")
    .action(
      async (options: {
        checkpoint: string;
        output: string;
        config?: string;
        dtype: "auto" | "F32" | "F16" | "BF16";
        tokenizer: boolean;
        overwrite?: boolean;
      }) => {
        const result = await importNeoxCheckpoint(
          {
            checkpoint: options.checkpoint,
            out: options.output,
            config: options.config,
            dtype: options.dtype,
            includeTokenizer: options.tokenizer,
            overwrite: options.overwrite,
          },
          (event) => {
            if (event.type === "located") {
              progress(
                `${event.stepDir}: ${event.layout} layout, model parallel ${event.modelParallel}, config ${event.configFiles.join(", ")}`,
              );
            } else if (event.type === "layer-merged") {
              progress(`merged ${event.name} (${event.done}/${event.total})`);
            }
          },
        );
        process.stdout.write(
          `wrote ${result.dir}: ${result.tensors.size} tensors, ${result.config.numLayers} layers, hidden ${result.config.hiddenSize}, vocab ${result.config.vocabSize}\n`,
        );
      },
    );
  return deprecatedOption(command, "--out <dir>", "--output");
}

/** `pythia-model export-neox --checkpoint HF_DIR --output DIR [--model-parallel N] [--layout L]`. */
export function exportNeoxCommand(): Command {
  const command = new Command("export-neox")
    .description(
      "write a Hugging Face checkpoint as a GPT-NeoX save folder (latest, global_stepN/, neox.yml) to continue training in GPT-NeoX",
    )
    .requiredOption("--checkpoint <dir>", "Hugging Face folder (config.json + weights)")
    .requiredOption("--output <dir>", "GPT-NeoX save folder to write")
    .addOption(
      new Option("--model-parallel <n>", "model-parallel ranks (1 or more)")
        .argParser(positiveIntegerArgument)
        .default(1),
    )
    .addOption(
      new Option("--layout <layout>", "pipeline: layer_XX-model_YY files; sequential: mp_rank_XX files")
        .choices(["pipeline", "sequential"])
        .default("pipeline"),
    )
    .addOption(
      new Option("--step <n>", "iteration to save at (global_stepN)").argParser(integerArgument).default(0),
    )
    .addOption(
      new Option(
        "--mlp-naming <naming>",
        "legacy: mlp.dense_h_to_4h (Pythia); new: mlp.linear1 (GPT-NeoX >= 3)",
      )
        .choices(["legacy", "new"])
        .default("legacy"),
    )
    .option("--overwrite", "replace --output if it exists")
    .action(
      async (options: {
        checkpoint: string;
        output: string;
        modelParallel: number;
        layout: "pipeline" | "sequential";
        step: number;
        mlpNaming: "legacy" | "new";
        overwrite?: boolean;
      }) => {
        if (existsSync(options.output) && options.overwrite !== true) {
          // The library's message names its parameter (`overwrite: true`); the CLI names the flag.
          throw new ModelError(
            "IO",
            `${options.output} already exists; choose a new --output or pass --overwrite to replace it`,
          );
        }
        const result = await exportNeoxCheckpoint(
          {
            checkpoint: options.checkpoint,
            out: options.output,
            modelParallel: options.modelParallel,
            layout: options.layout,
            step: options.step,
            mlpNaming: options.mlpNaming,
            overwrite: options.overwrite,
          },
          (event) => {
            if (event.type === "file-written") {
              progress(`wrote ${event.file} (${event.done}/${event.total})`);
            }
          },
        );
        process.stdout.write(
          `wrote ${result.dir}: ${result.tag}, model parallel ${options.modelParallel}, ${options.layout} layout; GPT-NeoX model keys in ${result.dir}/neox.yml\n`,
        );
      },
    );
  return deprecatedOption(command, "--out <dir>", "--output");
}
