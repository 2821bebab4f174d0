import { logitLensSeries, logitLensSeriesSvg } from "@pythia/analyses";
import { integerListArgument } from "@pythia/core/cli";
import { writePlot } from "@pythia/plots";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { Command } from "commander";
import { join } from "node:path";
import { log, openSeries, startCompute, withSeries, writeJson } from "../cli-shared.js";

/** `pythia-analyze logit-lens`: per-layer predictions and KL to the final layer across checkpoints. */
export function logitLensCommand(): Command {
  return withSeries(new Command("logit-lens"), false)
    .description(
      "per-layer next-token predictions and KL to the final layer, across checkpoints, with a heatmap",
    )
    .requiredOption("--text <text>", "the text to run the lens on (Pile tokenizer)")
    .requiredOption("--output <dir>", "output directory")
    .option("--checkpoint-steps <list>", "checkpoint steps (default: all)", integerListArgument)
    .action(async (options) => {
      const series = await openSeries(options);
      series.close(); // only its checkpoints are read
      await startCompute(options);
      const tokenizer = await loadPileTokenizer();
      const inputIds = tokenizer.encode(options.text);
      const checkpoints = await logitLensSeries({
        series,
        steps: options.checkpointSteps,
        inputIds,
        decode: (ids) => tokenizer.decode(ids),
      });
      const path = writeJson(options.output, "logit-lens.json", {
        run: options.run,
        text: options.text,
        inputIds,
        checkpoints,
      });
      const plot = await writePlot(join(options.output, "logit-lens-kl"), logitLensSeriesSvg(checkpoints));
      log(`wrote ${path}, ${plot.svg}`);
    });
}
