#!/usr/bin/env node
/**
 * `pythia-model`: run a GPT-NeoX checkpoint from the shell — logits and loss for token ids, configuration
 * and parameter counts, text generation. Thin wiring over the library; user mistakes print one line.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { loadPileTokenizer, TokenizerError } from "@pythia/tokenizer";
import { deprecatedOption, integerArgument, runCli, UsageError } from "@pythia/core/cli";
import { Command, Option } from "commander";
import {
  backendOption,
  presetArgument,
  startComputeFromOptions,
  temperatureArgument,
  threadsOption,
  topPArgument,
} from "./cli-options.js";
import { loadCheckpoint } from "./checkpoint.js";
import { parameterCount, pythiaPreset } from "./config.js";
import { generate } from "./generate.js";
import { initCompute } from "./compute.js";
import { nextTokenLoss } from "./gpt-neox.js";
import { ModelError } from "./model-errors.js";
import { writeSafetensors } from "./safetensors.js";
import { exportNeoxCommand, importNeoxCommand } from "./neox-commands.js";

async function startCompute(options: { backend?: string; threads?: number }): Promise<void> {
  await startComputeFromOptions({
    options,
    write: (line) => process.stderr.write(`pythia-model: ${line}\n`),
  });
}

/** tokens.json: `{"input_ids": [[...], ...]}` or a bare array of equal-length arrays. */
function readTokens(path: string): number[][] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ModelError("MODEL_INPUT", `${path}: cannot read it as JSON (${reason})`);
  }
  const rows = Array.isArray(value) ? value : (value as { input_ids?: unknown } | null)?.input_ids;
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((row) => Array.isArray(row))) {
    throw new ModelError(
      "MODEL_INPUT",
      `${path}: expected {"input_ids": [[ids...], ...]} or [[ids...], ...] with at least one row`,
    );
  }
  return rows as number[][];
}

function logitsCommand(): Command {
  const command = new Command("logits")
    .description("write float32 logits [B,T,V] and the mean next-token loss (HF's definition) as safetensors")
    .requiredOption(
      "--checkpoint <dir>",
      "HF checkpoint directory (config.json + model.safetensors or pytorch_model.bin, or their shards)",
    )
    .requiredOption("--tokens <file>", 'tokens.json: {"input_ids": [[...], ...]} or [[...], ...]')
    .requiredOption("--output <file>", "output .safetensors (tensors logits and loss)")
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(
      async (options: {
        checkpoint: string;
        tokens: string;
        output: string;
        backend?: string;
        threads?: number;
      }) => {
        const ids = readTokens(options.tokens);
        await startCompute(options);
        const model = await loadCheckpoint({ dir: options.checkpoint, trainable: false });
        const { logits } = model.forward(ids);
        const labels = tf.tensor2d(ids, undefined, "int32");
        const { loss, tokenLosses } = nextTokenLoss(logits, labels);
        const lossValue = (await loss.data())[0] as number;
        await writeSafetensors(options.output, {
          logits: { dtype: "F32", shape: [...logits.shape], data: (await logits.data()) as Float32Array },
          loss: { dtype: "F32", shape: [1], data: Float32Array.of(lossValue) },
        });
        tf.dispose([logits, labels, loss, tokenLosses]);
        model.dispose();
        process.stdout.write(
          `wrote ${options.output}: logits [${logits.shape.join(", ")}], loss ${lossValue}\n`,
        );
      },
    );
  return deprecatedOption(command, "--out <file>", "--output");
}

function infoCommand(): Command {
  return new Command("info")
    .description("print a configuration and its parameter counts")
    .option("--checkpoint <dir>", "HF checkpoint directory")
    .option("--preset <name>", "a Pythia size: pythia-14m … pythia-12b", presetArgument)
    .option("--json", "print JSON")
    .action(async (options: { checkpoint?: string; preset?: string; json?: boolean }) => {
      if ((options.checkpoint === undefined) === (options.preset === undefined)) {
        throw new UsageError("info needs exactly one of --checkpoint DIR or --preset NAME");
      }
      let config;
      if (options.preset !== undefined) {
        config = pythiaPreset(options.preset);
      } else {
        await initCompute({ backend: "cpu" });
        const model = await loadCheckpoint({ dir: options.checkpoint as string, trainable: false });
        config = model.config;
        model.dispose();
      }
      const counts = parameterCount(config);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ config, parameters: counts })}\n`);
        return;
      }
      const rows = Object.entries(config).map(([key, value]) => `${key.padEnd(22)} ${String(value)}`);
      rows.push(
        `${"parameters".padEnd(22)} ${counts.total.toLocaleString("en-US")} (non-embedding ${counts.nonEmbedding.toLocaleString("en-US")})`,
      );
      process.stdout.write(`${rows.join("\n")}\n`);
    });
}

function generateCommand(): Command {
  return new Command("generate")
    .description("continue a prompt (greedy unless --temperature > 0), printing tokens as they come")
    .requiredOption("--checkpoint <dir>", "HF checkpoint directory")
    .requiredOption("--prompt <text>", "the prompt")
    .addOption(
      new Option("--max-new-tokens <n>", "tokens to generate at most").argParser(integerArgument).default(32),
    )
    .addOption(
      new Option("--temperature <t>", "sampling temperature, 0 or more (0: greedy)")
        .argParser(temperatureArgument)
        .default(0),
    )
    .addOption(new Option("--top-k <k>", "sample among the k most likely tokens").argParser(integerArgument))
    .addOption(
      new Option("--top-p <p>", "nucleus sampling threshold, above 0 and at most 1").argParser(topPArgument),
    )
    .addOption(new Option("--seed <n>", "sampler seed").argParser(integerArgument).default(0))
    .addOption(
      new Option(
        "--min-length <n>",
        "ban <|endoftext|> until prompt + output reach n tokens (HF min_length)",
      ).argParser(integerArgument),
    )
    .option("--stop <string...>", "stop when the output contains one of these")
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(
      async (options: {
        checkpoint: string;
        prompt: string;
        maxNewTokens: number;
        temperature: number;
        topK?: number;
        topP?: number;
        seed: number;
        minLength?: number;
        stop?: string[];
        backend?: string;
        threads?: number;
      }) => {
        await startCompute(options);
        const tokenizer = await loadPileTokenizer();
        const model = await loadCheckpoint({ dir: options.checkpoint, trainable: false });
        // Stream text as tokens arrive, holding back an incomplete UTF-8 character (shown as U+FFFD).
        const newIds: number[] = [];
        let printed = "";
        process.stdout.write(options.prompt);
        const result = await generate({
          model,
          tokenizer,
          inputIds: tokenizer.encode(options.prompt),
          maxNewTokens: options.maxNewTokens,
          temperature: options.temperature,
          topK: options.topK,
          topP: options.topP,
          seed: options.seed,
          minLength: options.minLength,
          stopStrings: options.stop,
          onToken: (token) => {
            newIds.push(token.id);
            const text = tokenizer.decode(newIds);
            if (!text.endsWith("\ufffd") && text.startsWith(printed)) {
              process.stdout.write(text.slice(printed.length));
              printed = text;
            }
          },
        });
        const text = result.text ?? "";
        process.stdout.write(`${text.startsWith(printed) ? text.slice(printed.length) : ""}\n`);
        process.stderr.write(
          `pythia-model: ${result.newIds.length} tokens, finished by ${result.finishReason}\n`,
        );
        model.dispose();
      },
    );
}

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = new Command("pythia-model")
    .description("GPT-NeoX (Pythia) checkpoints: logits, info, generation, GPT-NeoX import/export")
    .version(manifest.version)
    .showHelpAfterError()
    .exitOverride();
  for (const command of [
    logitsCommand(),
    infoCommand(),
    generateCommand(),
    importNeoxCommand(),
    exportNeoxCommand(),
  ]) {
    program.addCommand(command.exitOverride().showHelpAfterError());
  }
  await runCli({ name: "pythia-model", program, isUserError: (error) => TokenizerError.isInstance(error) });
}

await main();
