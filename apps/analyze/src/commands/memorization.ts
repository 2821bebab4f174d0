import { memorizationByStepSvg, memorizeCheckpointsIter } from "@pythia/analyses";
import { drain } from "@pythia/core";
import { integerArgument, integerListArgument } from "@pythia/core/cli";
import { writePlot } from "@pythia/plots";
import { Command } from "commander";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { log, openSeries, startCompute, withSeries, writeJson } from "../cli-shared.js";

/** `pythia-analyze memorization`: memorization scores at each checkpoint over the rows it has seen. */
export function memorizationCommand(): Command {
  return withSeries(new Command("memorization"), true)
    .description(
      "memorization scores of training sequences at each checkpoint (k = 32 prompt, ℓ = 32 greedy)",
    )
    .requiredOption("--output <dir>", "output directory (scores files are resumable)")
    .option(
      "--checkpoint-steps <list>",
      "checkpoint steps, comma-separated (default: all after step 0)",
      integerListArgument,
    )
    .option("--start <n>", "first sequence (training-order row)", integerArgument, 0)
    .option("--count <n>", "sequences at most per checkpoint (default: all it has seen)", integerArgument)
    .option("--prompt-length <k>", "prompt tokens", integerArgument, 32)
    .option("--continuation-length <l>", "generated tokens", integerArgument, 32)
    .option("--batch-size <n>", "sequences per generation batch", integerArgument, 16)
    .action(async (options) => {
      const run = await openSeries(options);
      mkdirSync(options.output, { recursive: true });
      try {
        await startCompute(options);
        const iterator = memorizeCheckpointsIter({
          run,
          steps: options.checkpointSteps,
          start: options.start,
          count: options.count,
          outDir: options.output,
          promptLength: options.promptLength,
          continuationLength: options.continuationLength,
          batchSize: options.batchSize,
        });
        let progress: { since: number; done: number; logged: number } | null = null;
        const checkpoints = await drain(iterator, (event) => {
          if (event.type === "checkpoint-scored") {
            log(`step${event.step}: ${event.memorizedCount}/${event.count} memorized`);
            progress = null;
          } else if (event.type === "batch-scored") {
            // One line every 10 s at most: sequences scored, rate and time left.
            const now = performance.now();
            progress ??= { since: now, done: event.done, logged: now };
            if (now - progress.logged >= 10_000 && event.done < event.count) {
              const rate = (event.done - progress.done) / ((now - progress.since) / 1000);
              const left = rate > 0 ? (event.count - event.done) / rate : Number.POSITIVE_INFINITY;
              log(
                `step${event.step}: ${event.done}/${event.count} scored, ${event.memorized} memorized, ${rate.toFixed(1)} seq/s, ~${Math.ceil(left)} s left`,
              );
              progress.logged = now;
            }
          }
        });
        const path = writeJson(options.output, "memorization.json", { run: options.run, checkpoints });
        const plot = await writePlot(
          join(options.output, "memorization"),
          memorizationByStepSvg(checkpoints),
        );
        log(`wrote ${path}, ${plot.svg}`);
      } finally {
        run.close();
      }
    });
}
