import { interventionLossSvg, interventionRun } from "@pythia/analyses";
import { integerArgument, numberArgument } from "@pythia/core/cli";
import { checkpointDir } from "@pythia/core/run";
import { writePlot } from "@pythia/plots";
import { Command, InvalidArgumentError } from "commander";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { log, startCompute } from "../cli-shared.js";

/** Commander parser for `--percent`: a share of the run's steps above 0 and at most 100 (else exit 2). */
function percentArgument(value: string): number {
  const parsed = numberArgument(value);
  if (!(parsed > 0 && parsed <= 100)) {
    throw new InvalidArgumentError(`expected a percentage above 0 and at most 100, got "${value}"`);
  }
  return parsed;
}

/** `pythia-analyze intervene`: retrain the end of a run with the pronoun swap into a new run. */
export function interveneCommand(): Command {
  return new Command("intervene")
    .description(
      "retrain the last steps of a run with the pronoun swap (he → she, …) into a new run, for gender-bias comparisons",
    )
    .requiredOption("--run <dir>", "the baseline @pythia/trainer run directory (not modified)")
    .requiredOption("--output <dir>", "the new run directory (a rerun resumes it)")
    .option(
      "--percent <p>",
      "intervene on the last p% of the steps, from the newest checkpoint at or before that point (Pythia: 7 and 21)",
      percentArgument,
      7,
    )
    .option(
      "--resume-step <n>",
      "resume from this baseline checkpoint instead (Pythia: 133000)",
      integerArgument,
    )
    .action(async (options) => {
      await startCompute(options);
      let steps = 0;
      let logged = false;
      const summary = await interventionRun({
        baseline: options.run,
        out: options.output,
        percent: options.percent,
        resumeStep: options.resumeStep,
        onEvent: (event) => {
          if (event.type === "run-start") {
            steps = event.steps;
            log(
              `resuming ${options.run} at step ${event.fromStep} of ${event.steps}, swapping pronouns from step ${event.fromStep + 1}`,
            );
          } else if (
            event.type === "step-end" &&
            (!logged || event.step % 10 === 0 || event.step === steps)
          ) {
            logged = true;
            log(`step ${event.step}: loss ${event.loss.toFixed(4)}`);
          } else if (event.type === "checkpoint-written") {
            log(`wrote ${event.dir}`);
          }
        },
      });
      mkdirSync(join(options.output, "plots"), { recursive: true });
      const plot = await writePlot(
        join(options.output, "plots", "loss-vs-baseline"),
        interventionLossSvg({ baseline: options.run, intervened: options.output, ...summary }),
      );
      log(`wrote ${plot.svg}`);
      log(
        `intervened on steps ${summary.fromStep}–${summary.toStep - 1}; compare with: pythia-analyze gender-bias --checkpoint ${checkpointDir(options.run, summary.steps)} --compare ${checkpointDir(options.output, summary.steps)} --data-dir <bias data> --output <dir>`,
      );
    });
}
