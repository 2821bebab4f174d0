import {
  AnalysisError,
  compareLenses,
  disposeTunedLens,
  lensCheckpointStep,
  lensComparisonSvg,
  saveTunedLens,
  trainTunedLens,
  tunedLensRowBatches,
} from "@pythia/analyses";
import { integerArgument } from "@pythia/core/cli";
import { checkpointName } from "@pythia/core/run";
import { loadCheckpoint } from "@pythia/model";
import { writePlot } from "@pythia/plots";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { Command } from "commander";
import { join } from "node:path";
import { log, openSeries, startCompute, withSeries, writeJson } from "../cli-shared.js";

/** `pythia-analyze tuned-lens`: train a tuned lens on a checkpoint over the run's training rows. */
export function tunedLensCommand(): Command {
  return withSeries(new Command("tuned-lens"), true)
    .description(
      "train a tuned lens (one affine translator per layer; tuned-lens defaults) on a checkpoint, over the run's training rows",
    )
    .requiredOption("--output <dir>", "output directory (the lens goes to tuned-lens-step{N}/)")
    .option(
      "--checkpoint-step <n>",
      "the checkpoint to train the lens on (default: the newest)",
      integerArgument,
    )
    .option("--train-steps <n>", "optimizer steps (tuned-lens: 250)", integerArgument, 250)
    .option(
      "--batch-size <n>",
      "training rows per step (tuned-lens uses 2^18 tokens per step, far beyond a CPU: the default is small)",
      integerArgument,
      4,
    )
    .option("--tokens <n>", "tokens of each row used (default: the whole row)", integerArgument)
    .option("--text <text>", "also compare the logit and tuned lens on this text (JSON + heatmap)")
    .action(async (options) => {
      const tokenizer = await loadPileTokenizer();
      const decode = (ids: number[]) => tokenizer.decode(ids);
      const inputIds = options.text === undefined ? [] : tokenizer.encode(options.text);
      if (options.text !== undefined && inputIds.length === 0) {
        throw new AnalysisError("INPUT", "--text encodes to no tokens; give some text");
      }
      const run = await openSeries(options);
      try {
        await startCompute(options);
        const step = lensCheckpointStep(run, options.checkpointStep);
        const model = await loadCheckpoint({ dir: run.checkpointDir(step), trainable: false });
        try {
          const lens = await trainTunedLens({
            model,
            batch: tunedLensRowBatches({ series: run, batchSize: options.batchSize, tokens: options.tokens }),
            steps: options.trainSteps,
            onEvent: (event) => {
              if (event.step === 1 || event.step % 10 === 0 || event.step === options.trainSteps) {
                log(
                  `lens step ${event.step}: mean KL ${event.meanLoss.toFixed(4)} nats (lr ${event.lr.toExponential(2)})`,
                );
              }
            },
          });
          const lensDir = join(options.output, `tuned-lens-${checkpointName(step)}`);
          await saveTunedLens({
            lens,
            dir: lensDir,
            baseModel: run.checkpointDir(step),
            baseModelRevision: checkpointName(step),
          });
          log(`wrote ${lensDir}`);
          if (options.text !== undefined) {
            const layers = await compareLenses({ model, lens, inputIds, decode });
            const path = writeJson(options.output, "tuned-lens.json", {
              run: options.run,
              step,
              text: options.text,
              inputIds,
              layers,
            });
            const plot = await writePlot(
              join(options.output, "tuned-lens-kl"),
              lensComparisonSvg(step, layers),
            );
            log(`wrote ${path}, ${plot.svg}`);
          }
          disposeTunedLens(lens);
        } finally {
          model.dispose();
        }
      } finally {
        run.close();
      }
    });
}
