import { memorizedFlags, poissonCheck, poissonQqSvg, readScoresFile } from "@pythia/analyses";
import { integerArgument, numberArgument } from "@pythia/core/cli";
import { writePlot } from "@pythia/plots";
import { Command } from "commander";
import { join } from "node:path";
import { log, writeJson } from "../cli-shared.js";

/** `pythia-analyze poisson`: the Poisson point-process check of a memorization scores file. */
export function poissonCommand(): Command {
  return new Command("poisson")
    .description("Poisson point-process check of a memorization scores file, with a Q-Q plot")
    .requiredOption("--scores <file>", "a scores file written by memorization")
    .requiredOption("--output <dir>", "output directory")
    .option("--bin-size <n>", "sequences per bin", integerArgument, 512)
    .option("--alpha <p>", "significance level, in (0, 1)", numberArgument, 0.05)
    .action(async (options) => {
      const scores = readScoresFile(options.scores);
      const result = poissonCheck({
        memorized: memorizedFlags(scores),
        binSize: options.binSize,
        alpha: options.alpha,
      });
      const path = writeJson(options.output, "poisson.json", {
        scores: options.scores,
        start: scores.start,
        ...result,
      });
      const plot = await writePlot(join(options.output, "poisson-qq"), poissonQqSvg(result));
      log(
        `λ̂ = ${result.lambda.toFixed(4)}, ${result.accepted ? "Poisson accepted" : "Poisson rejected"}; wrote ${path}, ${plot.svg}${plot.png ? `, ${plot.png}` : ""}`,
      );
    });
}
