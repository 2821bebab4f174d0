#!/usr/bin/env node
/**
 * `pythia-data`: write, inspect, preprocess and browse GPT-NeoX indexed datasets, and print the exact
 * samples and batches Pythia's data order serves. Thin wiring over the library; errors are printed
 * as one line (no stack trace for user mistakes) with exit code 1, usage errors exit 2.
 */
import { deprecatedOption, runCli } from "@pythia/core/cli";
import { readFileSync } from "node:fs";
import { TokenizerError } from "@pythia/tokenizer";
import { Command } from "commander";
import { batchCommand } from "./cli-batch.js";
import { dedupCommand } from "./cli-dedup.js";
import { dtypeOption, integer } from "./cli-options.js";
import { preprocessCommand } from "./cli-preprocess.js";
import { unshardCommand } from "./cli-unshard.js";
import { samplesCommand } from "./cli-samples.js";
import { datasetInfo } from "./dataset-info.js";
import type { DtypeName } from "./dtype.js";
import { DataloaderError } from "./errors.js";
import { IndexedDatasetBuilder } from "./indexed-dataset-builder.js";

function writeCommand(): Command {
  const command = new Command("write")
    .description(
      "write docs.json (an array of arrays of token ids) as PREFIX.bin/.idx, one item per document",
    )
    .requiredOption("--docs <file>", "JSON file: [[ids...], ...]")
    .requiredOption("--output-prefix <prefix>", "output path prefix")
    .addOption(dtypeOption("uint16"))
    .action((options: { docs: string; outputPrefix: string; dtype: DtypeName }) => {
      const documents = readDocs(options.docs);
      const builder = IndexedDatasetBuilder.create({ prefix: options.outputPrefix, dtype: options.dtype });
      try {
        for (const document of documents) {
          builder.addItem(document);
          builder.endDocument();
        }
      } catch (error) {
        builder.abort();
        throw error;
      }
      const summary = builder.finalize();
      process.stdout.write(
        `wrote ${summary.prefix}.bin/.idx: ${summary.documents} documents, ${summary.tokens} tokens, ${summary.dtype}\n`,
      );
    });
  return deprecatedOption(command, "--prefix <prefix>", "--output-prefix");
}

function readDocs(path: string): number[][] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DataloaderError("DATASET_INPUT", `${path}: cannot read it as JSON (${reason})`);
  }
  if (!Array.isArray(value)) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${path}: expected an array of arrays of token ids, e.g. [[5, 6, 0], [7, 0]]`,
    );
  }
  value.forEach((document: unknown, i) => {
    if (!Array.isArray(document)) {
      throw new DataloaderError("DATASET_INPUT", `${path}: document ${i} is not an array of token ids`);
    }
    document.forEach((id: unknown, j) => {
      if (!Number.isSafeInteger(id)) {
        throw new DataloaderError(
          "DATASET_INPUT",
          `${path}: document ${i}, position ${j}: ${JSON.stringify(id)} is not an integer token id`,
        );
      }
    });
  });
  return value as number[][];
}

function infoCommand(): Command {
  return new Command("info")
    .description("documents, tokens, dtype, sizes and sha256 checksums of a dataset (validates it)")
    .requiredOption("--prefix <prefix>", "dataset path prefix (without .bin/.idx)")
    .option("--vocab-size <n>", "also check that every token id is below n", integer)
    .option("--no-checksum", "skip hashing (fast on huge files)")
    .option("--json", "print JSON")
    .action(async (options: { prefix: string; vocabSize?: number; checksum: boolean; json?: boolean }) => {
      const info = await datasetInfo({
        prefix: options.prefix,
        checksum: options.checksum,
        vocabSize: options.vocabSize,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(info)}\n`);
        return;
      }
      const lines = [
        `prefix     ${info.prefix}`,
        `dtype      ${info.dtype}`,
        `documents  ${info.documents}`,
        `items      ${info.items}`,
        `tokens     ${info.tokens}`,
        `.bin       ${info.binBytes} bytes${info.sha256 ? `  sha256 ${info.sha256.bin}` : ""}`,
        `.idx       ${info.idxBytes} bytes${info.sha256 ? `  sha256 ${info.sha256.idx}` : ""}`,
      ];
      if (info.vocabViolation !== undefined) {
        lines.push(
          info.vocabViolation === null
            ? `vocab      every id < ${options.vocabSize}`
            : `vocab      item ${info.vocabViolation.item}, position ${info.vocabViolation.position}: id ${info.vocabViolation.value} >= ${options.vocabSize}`,
        );
      }
      process.stdout.write(`${lines.join("\n")}\n`);
      if (info.vocabViolation) {
        process.exitCode = 1;
      }
    });
}

function createProgram(): Command {
  const program = new Command("pythia-data")
    .description("GPT-NeoX indexed datasets and the exact Pythia data order")
    .version(readVersion())
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(writeCommand());
  program.addCommand(infoCommand());
  program.addCommand(samplesCommand());
  program.addCommand(batchCommand());
  program.addCommand(preprocessCommand());
  program.addCommand(unshardCommand());
  program.addCommand(dedupCommand());
  for (const command of program.commands) {
    command.exitOverride().showHelpAfterError();
  }
  return program;
}

function readVersion(): string {
  return (
    JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
  ).version;
}

async function main(): Promise<void> {
  await runCli({
    name: "pythia-data",
    program: createProgram(),
    isUserError: (error) => TokenizerError.isInstance(error),
  });
}

process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") {
    process.exit(0);
  }
  throw error;
});

await main();
