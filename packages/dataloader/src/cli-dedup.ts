import { drain } from "@pythia/core";
import { numberArgument, UsageError } from "@pythia/core/cli";
import { Command, InvalidArgumentError, Option } from "commander";
import { dtypeOption, integer } from "./cli-options.js";
import { dedupIter, type DedupEvent, type DedupPhase, type DedupReport } from "./dedup.js";
import type { DtypeName } from "./dtype.js";
import type { KeepPolicy } from "./lsh-index.js";

interface DedupOptions {
  input: string[];
  outputPrefix: string;
  threshold: number;
  numPerm: number;
  seed: number;
  shingleSize: number;
  keep: KeepPolicy;
  bands?: number;
  rows?: number;
  workers: number;
  jsonlKey: string;
  format: "jsonl" | "bin";
  tokenizer?: string;
  dtype?: DtypeName;
  appendEod: boolean;
  sample: number;
  json?: boolean;
}

function fraction(value: string): number {
  const parsed = numberArgument(value);
  if (parsed < 0 || parsed > 1) {
    throw new InvalidArgumentError(`expected a number in [0, 1], got "${value}"`);
  }
  return parsed;
}

/** `pythia-data dedup`: MinHash-LSH near-deduplication of .jsonl / .jsonl.zst / text, with progress. */
export function dedupCommand(): Command {
  return new Command("dedup")
    .description(
      "drop near-duplicate documents (MinHash LSH over word 5-grams, as the Pile was deduplicated for Pythia)",
    )
    .requiredOption("--input <files...>", ".jsonl, .jsonl.zst, or plain-text files (one document each)")
    .requiredOption(
      "--output-prefix <prefix>",
      "writes PREFIX.jsonl (or PREFIX_{jsonl-key}_document.bin/.idx) and PREFIX.dedup-report.json",
    )
    .addOption(
      new Option("--threshold <j>", "Jaccard similarity of a near-duplicate")
        .argParser(fraction)
        .default(0.87),
    )
    .addOption(new Option("--num-perm <n>", "MinHash signature length").argParser(integer).default(128))
    .addOption(new Option("--seed <n>", "seed of the MinHash permutations").argParser(integer).default(1))
    .addOption(new Option("--shingle-size <n>", "words per shingle").argParser(integer).default(5))
    .addOption(
      new Option("--keep <which>", "which copy survives: last (the Pile's rule) or first")
        .choices(["last", "first"])
        .default("last"),
    )
    .addOption(new Option("--bands <n>", "LSH bands (default: datasketch's optimum)").argParser(integer))
    .addOption(new Option("--rows <n>", "LSH rows per band (with --bands)").argParser(integer))
    .addOption(
      new Option("--workers <n>", "signature threads (0: on the main thread)").argParser(integer).default(1),
    )
    .option("--jsonl-key <key>", "the JSONL field holding the text", "text")
    .addOption(
      new Option("--format <format>", "kept documents as the input's JSONL lines, or a tokenized .bin/.idx")
        .choices(["jsonl", "bin"])
        .default("jsonl"),
    )
    .option("--tokenizer <path>", "for --format bin: a tokenizer.json (default: the GPT-NeoX-20B tokenizer)")
    .addOption(dtypeOption())
    .option("--no-append-eod", "for --format bin: do not append <|endoftext|> (id 0) to each document")
    .addOption(
      new Option("--sample <n>", "dropped pairs whose exact Jaccard the report gives")
        .argParser(integer)
        .default(100),
    )
    .option("--json", "print the report as JSON instead of a summary")
    .action(async (options: DedupOptions) => {
      if ((options.bands === undefined) !== (options.rows === undefined)) {
        throw new UsageError(
          "--bands and --rows go together (leave both out for datasketch's optimum for --threshold)",
        );
      }
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      const iterator = dedupIter({
        inputs: options.input,
        outputPrefix: options.outputPrefix,
        threshold: options.threshold,
        numPerm: options.numPerm,
        seed: options.seed,
        shingleSize: options.shingleSize,
        keep: options.keep,
        lsh: options.bands === undefined ? undefined : { bands: options.bands, rows: options.rows as number },
        workers: options.workers,
        jsonlKey: options.jsonlKey,
        format: options.format,
        tokenizerPath: options.tokenizer,
        dtype: options.dtype,
        appendEod: options.appendEod,
        sampleSize: options.sample,
        signal: controller.signal,
      });
      const progress = await createProgressDisplay();
      let report: DedupReport;
      try {
        report = await drain(iterator, (event) => progress.update(event));
      } finally {
        progress.stop();
        process.off("SIGINT", onSignal);
      }
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : summarize(report));
    });
}

/** The lines printed after a run. */
function summarize(report: DedupReport): string {
  const percent = report.documents > 0 ? ((100 * report.dropped) / report.documents).toFixed(2) : "0.00";
  const lines = [
    `documents  ${report.documents}`,
    `kept       ${report.kept}`,
    `dropped    ${report.dropped} (${percent}%), in ${report.clusters.count} clusters (largest ${report.clusters.largest})`,
    `lsh        ${report.lsh.bands} bands x ${report.lsh.rows} rows of ${report.numPerm} (threshold ${report.threshold}, keep ${report.keep})`,
  ];
  if (report.sampleStats.pairs > 0) {
    lines.push(
      `sample     ${report.sampleStats.pairs} pairs: mean estimated Jaccard ${report.sampleStats.meanEstimated.toFixed(3)}, exact ${report.sampleStats.meanExact.toFixed(3)}, ${report.sampleStats.exactBelowThreshold} exactly below the threshold`,
    );
  }
  lines.push(
    `wrote      ${report.outputs.documents ?? `${report.outputs.dataset}.bin/.idx`} and ${report.outputs.report} in ${(report.elapsedMs.total / 1000).toFixed(1)} s`,
  );
  return `${lines.join("\n")}\n`;
}

interface ProgressDisplay {
  update(event: DedupEvent): void;
  stop(): void;
}

const PHASE_LABELS: Record<DedupPhase, string> = {
  signatures: "signatures",
  duplicates: "finding duplicates",
  write: "writing",
  tokenize: "tokenizing",
};

/** One cli-progress bar per pass on a terminal; on a pipe, a line per phase and every 10 s. */
async function createProgressDisplay(): Promise<ProgressDisplay> {
  if (!process.stderr.isTTY) {
    let last = 0;
    return {
      update(event) {
        if (event.type === "phase") {
          process.stderr.write(`dedup: ${PHASE_LABELS[event.phase]}\n`);
        } else if (event.type === "duplicates") {
          process.stderr.write(
            `dedup: ${event.dropped} of ${event.documents} documents are near-duplicates\n`,
          );
        } else if (event.elapsedMs - last >= 10_000) {
          last = event.elapsedMs;
          const percent =
            event.totalBytes > 0 ? ((100 * event.bytesRead) / event.totalBytes).toFixed(1) : "?";
          process.stderr.write(
            `dedup: ${PHASE_LABELS[event.phase]} ${percent}%, ${event.documents} documents\n`,
          );
        }
      },
      stop() {},
    };
  }
  const { default: progress } = await import("cli-progress");
  let bar: InstanceType<typeof progress.SingleBar> | null = null;
  let phase: DedupPhase | null = null;
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  return {
    update(event) {
      if (event.type === "phase") {
        stopBar();
        phase = event.phase;
        if (phase === "duplicates") {
          process.stderr.write("finding duplicates…\n");
        }
        return;
      }
      if (event.type === "duplicates") {
        process.stderr.write(`${event.dropped} of ${event.documents} documents are near-duplicates\n`);
        return;
      }
      const payload = {
        label: PHASE_LABELS[event.phase],
        documents: event.documents,
      };
      if (bar === null || phase !== event.phase) {
        phase = event.phase;
        bar = new progress.SingleBar(
          {
            format: "{label} {bar} {percentage}% | {documents} docs | ETA {eta_formatted}",
            stream: process.stderr,
          },
          progress.Presets.shades_classic,
        );
        bar.start(Math.max(event.totalBytes, 1), event.bytesRead, payload);
      } else {
        bar.update(event.bytesRead, payload);
      }
    },
    stop: stopBar,
  };
}
