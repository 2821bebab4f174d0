import {
  AnalysisError,
  evaluateGenderBiasCheckpoint,
  genderBiasReport,
  genderBiasReportSvg,
  genderBiasSeries,
  genderBiasSeriesSvgs,
} from "@pythia/analyses";
import { integerArgument, integerListArgument } from "@pythia/core/cli";
import { writePlot } from "@pythia/plots";
import { loadPileTokenizer } from "@pythia/tokenizer";
import { Command } from "commander";
import { join } from "node:path";
import { log, startCompute, writeJson } from "../cli-shared.js";

/** `pythia-analyze gender-bias`: WinoBias and CrowS-Pairs of a checkpoint, a pair, or two runs. */
export function genderBiasCommand(): Command {
  return new Command("gender-bias")
    .description(
      "WinoBias and CrowS-Pairs (gender) of a checkpoint; with --compare, a before/after report; with --run and --compare-run, both runs over their checkpoints",
    )
    .option("--checkpoint <dir>", "checkpoint directory (the baseline, with --compare)")
    .option("--compare <dir>", "the intervened checkpoint to report against --checkpoint")
    .option("--run <dir>", "a baseline run: evaluate its checkpoints (instead of --checkpoint)")
    .option("--compare-run <dir>", "the intervened run (pythia-analyze intervene) to evaluate beside --run")
    .option(
      "--checkpoint-steps <list>",
      "with --run: checkpoint steps (default: those of the intervention window)",
      integerListArgument,
    )
    .requiredOption("--data-dir <dir>", "the shared bias data directory (crows-pairs/, winobias/)")
    .requiredOption("--output <dir>", "output directory")
    .option("--limit <n>", "items per WinoBias subset and CrowS pairs at most", integerArgument)
    .action(async (options) => {
      if ((options.checkpoint === undefined) === (options.run === undefined)) {
        throw new AnalysisError(
          "INPUT",
          "give either --checkpoint (one checkpoint) or --run (a run's checkpoints)",
        );
      }
      if (options.run !== undefined && options.compareRun === undefined) {
        throw new AnalysisError("INPUT", "--run needs --compare-run (the intervened run to compare with)");
      }
      await startCompute(options);
      const tokenizer = await loadPileTokenizer();
      const evaluate = (dir: string) =>
        evaluateGenderBiasCheckpoint({ dir, tokenizer, dataDir: options.dataDir, limit: options.limit });
      if (options.run !== undefined) {
        const points = await genderBiasSeries({
          baselineRun: options.run,
          intervenedRun: options.compareRun,
          steps: options.checkpointSteps,
          evaluate,
          onEvent: ({ step, baseline, intervened }) =>
            log(
              `step${step}: WinoBias bias ${baseline.winobias.bias.toFixed(4)} → ${intervened.winobias.bias.toFixed(4)}, CrowS pct_stereotype ${baseline.crowsPairs.pctStereotype.toFixed(4)} → ${intervened.crowsPairs.pctStereotype.toFixed(4)}`,
            ),
        });
        const path = writeJson(options.output, "gender-bias-series.json", {
          baseline: options.run,
          intervened: options.compareRun,
          steps: points,
        });
        const plots = [];
        for (const { name, svg } of genderBiasSeriesSvgs(points)) {
          plots.push((await writePlot(join(options.output, name), svg)).svg);
        }
        log(`wrote ${path}, ${plots.join(", ")}`);
        return;
      }
      const before = await evaluate(options.checkpoint);
      if (options.compare === undefined) {
        const path = writeJson(options.output, "gender-bias.json", {
          checkpoint: options.checkpoint,
          ...before,
        });
        log(
          `WinoBias bias ${before.winobias.bias.toFixed(4)}, CrowS pct_stereotype ${before.crowsPairs.pctStereotype.toFixed(4)}; wrote ${path}`,
        );
        return;
      }
      const report = genderBiasReport(before, await evaluate(options.compare));
      const path = writeJson(options.output, "gender-bias-report.json", {
        baseline: options.checkpoint,
        intervened: options.compare,
        ...report,
      });
      const plot = await writePlot(join(options.output, "gender-bias-report"), genderBiasReportSvg(report));
      log(`WinoBias bias change ${report.change.winobiasBias.toFixed(4)}; wrote ${path}, ${plot.svg}`);
    });
}
