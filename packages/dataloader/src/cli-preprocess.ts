import { drain } from "@pythia/core";
import { invalidUtf8Warning } from "@pythia/tokenizer/node";
import { Command, Option } from "commander";
import { integer, dtypeOption } from "./cli-options.js";
import type { DtypeName } from "./dtype.js";
import { preprocessIter, type PreprocessEvent, type PreprocessSummary } from "./preprocess.js";

interface PreprocessOptions {
  input: string[];
  outputPrefix: string;
  workers: number;
  jsonlKey: string;
  tokenizer?: string;
  dtype?: DtypeName;
  appendEod: boolean;
  strict: boolean;
}

/** `pythia-data preprocess`: JSONL / .jsonl.zst / text -> tokenized .bin/.idx, with a progress bar. */
export function preprocessCommand(): Command {
  return new Command("preprocess")
    .description(
      "tokenize documents into PREFIX_{jsonl-key}_document.bin/.idx like GPT-NeoX tools/preprocess_data.py",
    )
    .requiredOption("--input <files...>", ".jsonl, .jsonl.zst, or plain-text files (one document each)")
    .requiredOption("--output-prefix <prefix>", "output prefix (GPT-NeoX naming adds _{jsonl-key}_document)")
    .addOption(
      new Option("--workers <n>", "tokenizer threads (0: tokenize on the main thread)")
        .argParser(integer)
        .default(1),
    )
    .option("--jsonl-key <key>", "the JSONL field holding the text", "text")
    .option(
      "--tokenizer <path>",
      "a Hugging Face tokenizer.json (default: the bundled GPT-NeoX-20B tokenizer)",
    )
    .addOption(dtypeOption())
    .option("--no-append-eod", "do not append <|endoftext|> (id 0) to each document")
    .option("--strict", "refuse input that is not UTF-8 (default: replace by U+FFFD and warn)", false)
    .action(async (options: PreprocessOptions) => {
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      const iterator = preprocessIter({
        inputs: options.input,
        outputPrefix: options.outputPrefix,
        workers: options.workers,
        jsonlKey: options.jsonlKey,
        tokenizerPath: options.tokenizer,
        dtype: options.dtype,
        appendEod: options.appendEod,
        strict: options.strict,
        signal: controller.signal,
      });
      const progress = await createProgressDisplay();
      let summary: PreprocessSummary;
      try {
        summary = await drain(iterator, (event) => {
          if (event.type === "invalid-utf8") {
            process.stderr.write(`${invalidUtf8Warning(event)}\n`);
          }
          progress.update(event);
        });
      } finally {
        progress.stop();
        process.off("SIGINT", onSignal);
      }
      const seconds = summary.elapsedMs / 1000;
      process.stdout.write(
        `wrote ${summary.prefix}.bin/.idx: ${summary.documents} documents, ${summary.tokens} tokens (${summary.dtype}) in ${seconds.toFixed(1)} s, ${Math.round(summary.tokens / Math.max(seconds, 1e-3))} tokens/s\n`,
      );
    });
}

interface ProgressDisplay {
  update(event: PreprocessEvent): void;
  stop(): void;
}

/** A cli-progress bar on a terminal; on a pipe, a plain line every 10 s (libraries never print: the app does). */
async function createProgressDisplay(): Promise<ProgressDisplay> {
  if (!process.stderr.isTTY) {
    let last = 0;
    return {
      update(event) {
        if (event.type === "progress" && event.elapsedMs - last >= 10_000) {
          last = event.elapsedMs;
          process.stderr.write(`${describe(event)}\n`);
        }
      },
      stop() {},
    };
  }
  const { default: progress } = await import("cli-progress");
  const bar = new progress.SingleBar(
    {
      format: "{bar} {percentage}% | {documents} docs | {tokens} tokens | {rate} tok/s | ETA {eta_formatted}",
      stream: process.stderr,
    },
    progress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(event) {
      if (event.type !== "progress") {
        return;
      }
      const payload = {
        documents: event.documents,
        tokens: event.tokens,
        rate: Math.round(event.tokens / Math.max(event.elapsedMs / 1000, 1e-3)),
      };
      if (!started) {
        bar.start(Math.max(event.totalBytes, 1), event.bytesRead, payload);
        started = true;
      } else {
        bar.update(event.bytesRead, payload);
      }
    },
    stop() {
      if (started) {
        bar.stop();
      }
    },
  };
}

function describe(event: Extract<PreprocessEvent, { type: "progress" }>): string {
  const seconds = event.elapsedMs / 1000;
  const percent = event.totalBytes > 0 ? ((100 * event.bytesRead) / event.totalBytes).toFixed(1) : "?";
  return `preprocess: ${percent}% of input, ${event.documents} documents, ${event.tokens} tokens, ${Math.round(event.tokens / Math.max(seconds, 1e-3))} tokens/s`;
}
