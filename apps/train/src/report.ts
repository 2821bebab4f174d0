/** The end-of-run report: where everything is, the final losses, and how to resume and evaluate. */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { checkpointDir, checkpointName, METRICS_JSONL, RUN_JSON, type MetricsRecord } from "@pythia/core/run";
import type { TrainSummary } from "@pythia/trainer";
import type { PlotResult } from "./plot.js";
import { formatDuration } from "./progress.js";

/** Parameters of `finalReport`. */
export interface FinalReportParams {
  out: string;
  modelName: string;
  steps: number;
  /** The step training started from (0, or the checkpoint a resumed run continued). */
  fromStep: number;
  summary: TrainSummary;
  metrics: readonly MetricsRecord[];
  /** Steps of the complete checkpoints in the run directory, ascending. */
  checkpoints: readonly number[];
  plot: PlotResult;
  elapsedMs: number;
  /** The run had already finished every step; nothing was trained. */
  alreadyFinished: boolean;
}

/** The report's lines. */
export function finalReport(params: FinalReportParams): string[] {
  const { out, metrics, checkpoints } = params;
  const lastTrain = metrics.findLast((line) => line.type === "train");
  const lastEval = metrics.findLast((line) => line.type === "eval");
  const oldest = checkpoints[0];
  const newest = checkpoints.at(-1);
  const lines = [
    params.alreadyFinished
      ? `pythia-train: ${out} had already finished its ${params.steps} steps; nothing to train`
      : `pythia-train: trained ${params.modelName} ${params.fromStep > 0 ? `from step ${params.fromStep} to ${params.steps}` : `for ${params.steps} steps`} in ${formatDuration(params.elapsedMs)}`,
    `  output       ${out}`,
    `  checkpoints  ${checkpoints.length} (${newest === undefined ? "none" : `${checkpointName(oldest as number)} … ${checkpointName(newest)}`}, ${params.summary.checkpoints.length} written now) in ${join(out, "step{N}")}/`,
    `  train loss   ${lastTrain === undefined ? "-" : `${lastTrain.loss.toFixed(4)} (step ${lastTrain.step})`}`,
    `  validation   ${
      lastEval === undefined || lastEval.type !== "eval"
        ? "none (the data has no held-out documents: give several documents, e.g. JSONL lines or files)"
        : `loss ${lastEval.loss.toFixed(4)}, perplexity ${lastEval.perplexity.toFixed(2)} (step ${lastEval.step})`
    }`,
    `  metrics      ${join(out, METRICS_JSONL)}, ${join(out, RUN_JSON)}`,
    `  plots        ${[params.plot.svg, params.plot.png].filter((path) => path !== null).join(", ")}${
      params.plot.pngSkipped === undefined ? "" : ` (no PNG: ${params.plot.pngSkipped})`
    }`,
    `  resume       ${commandForms(`train --output ${out} --resume`, `pythia-train --output ${out} --resume`)}`,
  ];
  if (newest !== undefined) {
    const generate = `generate --checkpoint ${checkpointDir(out, newest)} --prompt "ROMEO:"`;
    lines.push(`  evaluate     ${commandForms(`model ${generate}`, `node ${modelCliPath()} ${generate}`)}`);
  }
  return lines;
}

/**
 * A command as the user can run it: `pythia SUBCOMMAND` when the umbrella `pythia` command (@pythia/cli)
 * is installed next to this app, otherwise the standalone form followed by the umbrella one.
 */
function commandForms(subcommand: string, standalone: string): string {
  return umbrellaInstalled()
    ? `pythia ${subcommand}`
    : `${standalone}  (with @pythia/cli: pythia ${subcommand})`;
}

/** Whether `@pythia/cli` (the `pythia` command) resolves from this app. */
function umbrellaInstalled(): boolean {
  try {
    import.meta.resolve("@pythia/cli/package.json");
    return true;
  } catch {
    return false;
  }
}

/** `pythia-model` (the @pythia/model CLI), relative to the working directory. */
function modelCliPath(): string {
  const manifest = fileURLToPath(import.meta.resolve("@pythia/model/package.json"));
  const cli = join(dirname(manifest), "dist", "cli.js");
  const near = relative(process.cwd(), cli);
  return near.startsWith("..") ? cli : near;
}
