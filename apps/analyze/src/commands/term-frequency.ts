import {
  accuracyFrequencySeries,
  accuracyFrequencySvg,
  parseArithmeticOperations,
  termFrequencyStudy,
} from "@pythia/analyses";
import { integerArgument, integerListArgument } from "@pythia/core/cli";
import { writePlot } from "@pythia/plots";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { Command, Option } from "commander";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { log, openSeries, startCompute, withSeries, writeJson } from "../cli-shared.js";

/** `pythia-analyze term-frequency`: operand frequencies and arithmetic accuracy at each checkpoint. */
export function termFrequencyCommand(): Command {
  return withSeries(new Command("term-frequency"), true)
    .description("operand frequencies as of each checkpoint and arithmetic accuracy vs frequency")
    .requiredOption("--output <dir>", "output directory (counts are cached there: a rerun resumes)")
    .option("--checkpoint-steps <list>", "checkpoint steps (default: all after step 0)", integerListArgument)
    .addOption(new Option("--operations <list>", "arithmetic operations").default("multiplication,addition"))
    .option("--shots <list>", "k-shot settings", integerListArgument, [0, 2, 4, 8, 16])
    .option(
      "--limit <n>",
      "operands x1 (the first n) and docs per operand at most (CI-sized runs)",
      integerArgument,
    )
    .option(
      "--workers <n>",
      "worker threads that decode and count the training rows (0: this thread)",
      integerArgument,
      Math.min(4, availableParallelism()),
    )
    .option("--no-time-units", "skip the time-unit windows (keys n-minute, n-hour, …)")
    .action(async (options) => {
      const operations = parseArithmeticOperations(String(options.operations));
      const run = await openSeries(options);
      try {
        await startCompute(options);
        const started = performance.now();
        const study = await termFrequencyStudy({
          series: run,
          steps: options.checkpointSteps,
          operations,
          shots: options.shots,
          limit: options.limit,
          tokenizer: await loadPileTokenizer(),
          workers: options.workers,
          timeUnits: options.timeUnits,
          cacheDir: join(options.output, "counts"),
          source: JSON.stringify({
            run: resolve(options.run),
            data: options.data === undefined ? null : resolve(options.data),
            rowLength: run.rowLength,
          }),
          onEvent: (event) => {
            if (event.type === "chunk-counted") {
              log(
                `step${event.step}: ${event.rows} rows counted${event.cached ? " (cached)" : ""}, ${event.keys} keys, ${((performance.now() - started) / 1000).toFixed(1)} s`,
              );
            } else if (event.type === "checkpoint-evaluated") {
              log(`step${event.step}: ${event.tasks} task settings scored`);
            }
          },
        });
        const path = writeJson(options.output, "term-frequency.json", { run: options.run, ...study });
        const shots = Math.max(...(options.shots as number[]));
        const plots = [];
        for (const operation of operations) {
          const plot = await writePlot(
            join(options.output, `accuracy-vs-frequency-${operation}`),
            accuracyFrequencySvg(
              accuracyFrequencySeries(study, { operation, shots }),
              `${operation}, ${shots}-shot: accuracy vs operand frequency`,
            ),
          );
          plots.push(plot.svg);
        }
        log(`wrote ${path}, ${plots.join(", ")}`);
      } finally {
        run.close();
      }
    });
}
