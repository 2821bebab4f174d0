import type { Tokenizer } from "@pythia/tokenizer";
import { loadPileTokenizer, loadTokenizerFile } from "@pythia/tokenizer/node";
import { UsageError } from "@pythia/core/cli";
import { Command, Option } from "commander";
import { batchRows, indexMapBatch, preshuffledBatch, preshuffledRowLength } from "./batch-viewer.js";
import { integer } from "./cli-options.js";
import { indexMapOptions, openOrder } from "./cli-samples.js";
import { IndexedDataset } from "./indexed-dataset.js";

interface BatchOptions {
  prefix: string;
  step: number;
  batchSize: number;
  seqLength?: number;
  decode?: boolean;
  json?: boolean;
  tokenizer?: string;
  seed?: number;
  numSamples?: number;
  name: string;
  cache: boolean;
  cacheDir?: string;
}

/**
 * `pythia-data batch`: the sequences of training batch `--step` (0-based: the data of optimizer step
 * K + 1). Pre-shuffled files (Pythia's released format) by default; GPT-NeoX's GPT2Dataset order when
 * `--seed` and `--num-samples` are given.
 */
export function batchCommand(): Command {
  const command = new Command("batch")
    .description(
      "print the sequences of training batch K (pre-shuffled rows, or GPT2Dataset order with --seed/--num-samples)",
    )
    .requiredOption("--prefix <prefix>", "dataset path prefix (without .bin/.idx)")
    .addOption(new Option("--step <k>", "0-based batch index").argParser(integer).makeOptionMandatory())
    .addOption(
      new Option("--batch-size <b>", "sequences per batch (1024 for Pythia)")
        .argParser(integer)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        "--seq-length <n>",
        "tokens per sequence minus one (pre-shuffled files: default and check from the .idx item length; GPT2Dataset order: default 2048)",
      ).argParser(integer),
    )
    .option("--decode", "print text instead of ids")
    .option("--json", 'print {"step": K, "sequences": [[ids...], ...]} (and "texts" with --decode)')
    .option(
      "--tokenizer <path>",
      "tokenizer.json for --decode (default: the bundled GPT-NeoX-20B tokenizer)",
    );
  indexMapOptions(command, false);
  return command.action(async (options: BatchOptions) => {
    if ((options.seed === undefined) !== (options.numSamples === undefined)) {
      throw new UsageError(
        "--seed and --num-samples go together (GPT2Dataset order); leave both out for pre-shuffled files",
      );
    }
    let rowLength: number;
    let batch: Int32Array;
    let source: string;
    if (options.seed !== undefined && options.numSamples !== undefined) {
      const seqLength = options.seqLength ?? 2048;
      rowLength = seqLength + 1;
      const { order } = openOrder({
        ...options,
        seqLength,
        seed: options.seed,
        numSamples: options.numSamples,
      });
      try {
        batch = indexMapBatch({ dataset: order, step: options.step, batchSize: options.batchSize });
      } finally {
        order.dataset.close();
      }
      source = `GPT2Dataset order (seed ${options.seed}, ${options.numSamples} samples)`;
    } else {
      const dataset = IndexedDataset.open(options.prefix);
      try {
        rowLength = preshuffledRowLength(dataset, options.seqLength);
        batch = preshuffledBatch({
          dataset,
          step: options.step,
          batchSize: options.batchSize,
          seqLength: options.seqLength,
        });
      } finally {
        dataset.close();
      }
      source = "pre-shuffled rows";
    }
    const rows = batchRows(batch, rowLength);
    const tokenizer: Tokenizer | null = options.decode
      ? options.tokenizer
        ? await loadTokenizerFile(options.tokenizer)
        : await loadPileTokenizer()
      : null;
    const texts = tokenizer === null ? null : rows.map((row) => tokenizer.decode(row));
    if (options.json) {
      const out: Record<string, unknown> = {
        step: options.step,
        sequences: rows.map((row) => Array.from(row)),
      };
      if (texts !== null) {
        out.texts = texts;
      }
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    const first = options.step * options.batchSize;
    process.stdout.write(
      `step ${options.step}: ${options.batchSize} sequences of ${rowLength} tokens, samples [${first}, ${first + options.batchSize}) in ${source}\n`,
    );
    rows.forEach((row, i) => {
      process.stdout.write(`[${i}] ${texts === null ? row.join(" ") : JSON.stringify(texts[i])}\n`);
    });
  });
}
