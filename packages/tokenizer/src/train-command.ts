/**
 * `pythia-tokenize train`: trains a byte-level BPE on text files and writes `tokenizer.json`. Loaded
 * by `cli.ts` only for this command. Progress goes to stderr: a cli-progress bar on a terminal when the
 * optional peer dependency `cli-progress` is installed, plain lines otherwise.
 */
import { parseArgs } from "node:util";
import { isParseArgsError, packageVersion, usageErrorMessage } from "./cli-usage.js";
import { TokenizerError } from "./errors.js";
import { trainBpe, trainedTokenizerJson, type TrainBpeProgress } from "./train-bpe.js";
import { writeFileAtomic } from "./write-file-atomic.js";

const TRAIN_USAGE = `Usage: pythia-tokenize train --input FILE... --output tokenizer.json [options]

Trains a byte-level BPE (the Pile / GPT-NeoX pre-tokenization) exactly as Hugging Face tokenizers'
BpeTrainer does; each line of an input file, with its newline, is one sequence.

Options:
  --input FILE            a UTF-8 text file to train on (repeat, or list several after one --input)
  --output PATH           where to write the tokenizer.json
  --vocab-size N          vocabulary size, special tokens included (default: 30000)
  --min-frequency N       never merge a pair seen fewer than N times (default: 0)
  --special-tokens LIST   comma-separated tokens that get the first ids, e.g. "<|endoftext|>,<|padding|>"
  --limit-alphabet N      keep only the N most frequent characters of the alphabet
  --workers N             worker threads counting words (default: the number of CPUs)
  --quiet                 no progress output
  -h, --help              show this help
  -V, --version           show the version

Example:
  pythia-tokenize train --input corpus.txt --output tokenizer.json --vocab-size 50000 \\
    --special-tokens "<|endoftext|>,<|padding|>"
`;

class TrainUsageError extends Error {}

/** Runs `pythia-tokenize train` with the arguments after `train`; resolves to the exit code. */
export async function runTrainCommand(argv: string[]): Promise<number> {
  try {
    await train(argv);
    return 0;
  } catch (error) {
    if (error instanceof TrainUsageError || isParseArgsError(error)) {
      process.stderr.write(`error: ${usageErrorMessage(error)}\n\n${TRAIN_USAGE}`);
      return 2;
    }
    if (TokenizerError.isInstance(error)) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function train(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: "string", multiple: true },
      output: { type: "string" },
      // --out: the old spelling, kept hidden for one minor version.
      out: { type: "string" },
      "vocab-size": { type: "string" },
      "min-frequency": { type: "string" },
      "special-tokens": { type: "string" },
      "limit-alphabet": { type: "string" },
      workers: { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "V", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(TRAIN_USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`${await packageVersion()}\n`);
    return;
  }
  // `--input a.txt b.txt` reads naturally: files after the options count as inputs too.
  const files = [...(values.input ?? []), ...positionals];
  if (files.length === 0) {
    throw new TrainUsageError("missing --input FILE");
  }
  if (values.out !== undefined) {
    process.stderr.write(
      "warning: --out is deprecated and will be removed in the next minor version; use --output\n",
    );
  }
  const output = values.output ?? values.out;
  if (output === undefined) {
    throw new TrainUsageError("missing --output PATH (where to write tokenizer.json)");
  }
  const specialTokens = values["special-tokens"]?.split(",").filter((token) => token.length > 0) ?? [];
  const display = values.quiet ? null : await createProgressDisplay();
  const started = performance.now();
  try {
    const model = await trainBpe({
      files,
      vocabSize: integerOption("--vocab-size", values["vocab-size"]),
      minFrequency: integerOption("--min-frequency", values["min-frequency"]),
      limitAlphabet: integerOption("--limit-alphabet", values["limit-alphabet"]),
      workers: integerOption("--workers", values.workers),
      specialTokens,
      onProgress: display === null ? undefined : (event) => display.update(event),
    });
    display?.stop();
    try {
      // Atomic: an interrupted or failed write never leaves a truncated tokenizer.json over a good one.
      await writeFileAtomic(output, trainedTokenizerJson(model));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new TokenizerError(
        "TOKENIZER_FILE",
        `cannot write ${output} (${code}); check the directory exists`,
        {
          cause: error,
        },
      );
    }
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `wrote ${output}: ${model.vocab.size} tokens, ${model.merges.length} merges from ${model.words} distinct words in ${seconds.toFixed(1)} s\n`,
    );
  } finally {
    display?.stop();
  }
}

function integerOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  if (!/^\d+$/.test(text)) {
    throw new TrainUsageError(`${name} expects a non-negative integer, got "${text}"`);
  }
  return Number(text);
}

interface ProgressDisplay {
  update(event: TrainBpeProgress): void;
  stop(): void;
}

/** A cli-progress bar per stage on a terminal (when installed); otherwise a line per stage and every 10 s. */
async function createProgressDisplay(): Promise<ProgressDisplay> {
  const progress = process.stderr.isTTY ? await import("cli-progress").catch(() => null) : null;
  if (progress === null) {
    return plainProgress();
  }
  const bars = new progress.default.MultiBar(
    {
      format: "{stage} {bar} {percentage}% | {value}/{total} {unit}",
      stream: process.stderr,
      hideCursor: true,
    },
    progress.default.Presets.shades_classic,
  );
  let countBar: ReturnType<typeof bars.create> | null = null;
  let mergeBar: ReturnType<typeof bars.create> | null = null;
  let vocabSize = 0;
  let stopped = false;
  return {
    update(event) {
      if (event.type === "count-progress") {
        countBar ??= bars.create(Math.max(event.totalBytes, 1), 0, { stage: "count words ", unit: "bytes" });
        countBar.update(event.bytesRead);
      } else if (event.type === "merge-progress") {
        const total = Math.max(event.targetVocabSize, event.vocabSize);
        mergeBar ??= bars.create(total, 0, { stage: "learn merges", unit: "tokens" });
        mergeBar.setTotal(total);
        mergeBar.update(event.vocabSize);
        vocabSize = event.vocabSize;
      }
    },
    stop() {
      if (!stopped) {
        stopped = true;
        // Training can end below the target size (no pair left to merge): show the bar full.
        mergeBar?.setTotal(vocabSize);
        mergeBar?.update(vocabSize);
        bars.stop();
      }
    },
  };
}

function plainProgress(): ProgressDisplay {
  let lastLine = 0;
  const due = () => {
    const now = performance.now();
    if (now - lastLine < 10_000) {
      return false;
    }
    lastLine = now;
    return true;
  };
  return {
    update(event) {
      if (event.type === "count-progress" && (due() || event.bytesRead === event.totalBytes)) {
        const percent =
          event.totalBytes > 0 ? ((100 * event.bytesRead) / event.totalBytes).toFixed(1) : "100";
        process.stderr.write(`counting words: ${percent}% of ${event.totalBytes} bytes\n`);
      } else if (event.type === "words-counted") {
        process.stderr.write(`counted ${event.words} distinct words; learning merges\n`);
        lastLine = performance.now();
      } else if (event.type === "merge-progress" && due()) {
        process.stderr.write(`learning merges: ${event.vocabSize}/${event.targetVocabSize} tokens\n`);
      }
    },
    stop() {},
  };
}
