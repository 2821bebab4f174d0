#!/usr/bin/env node
/**
 * `pythia-analyze`: the @pythia/analyses analyses over a training run's checkpoints, writing JSON
 * and plots. Thin wiring over the library; user mistakes print one line (exit 1, usage: exit 2).
 */
import { drain, writeFileAtomic } from "@pythia/core";
import { integerArgument, integerListArgument, numberArgument, runCli } from "@pythia/core/cli";
import { mkdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import {
  accuracyFrequencySvg,
  AnalysisError,
  arithmeticEval,
  disposeTunedLens,
  genderBiasEval,
  genderBiasReport,
  genderBiasReportSvg,
  heatmapSvg,
  memorizationByStepSvg,
  interventionRun,
  logitLens,
  memorizedFlags,
  memorizeCheckpointsIter,
  modelGreedyUntil,
  openCheckpointSeries,
  performanceGap,
  poissonCheck,
  poissonQqSvg,
  readScoresFile,
  saveTunedLens,
  termFrequency,
  trainTunedLens,
  writePlot,
  type ArithmeticOperation,
  type CheckpointSeries,
  type GenderBiasResult,
  type LogitLensLayer,
} from "@pythia/analyses";
import { loadCheckpoint } from "@pythia/model";
import { backendOption, startComputeFromOptions, threadsOption } from "@pythia/model/cli-options";
import { lineChartSvg } from "@pythia/plots";
import { completeCheckpoints, readMetrics } from "@pythia/trainer";
import { loadPileTokenizer, TokenizerError } from "@pythia/tokenizer";
import { Command, Option } from "commander";

function writeJson(out: string, name: string, value: unknown): string {
  mkdirSync(out, { recursive: true });
  const path = join(out, name);
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

function log(message: string): void {
  process.stderr.write(`pythia-analyze: ${message}\n`);
}

/** `--run` and the options that describe a checkpoint series without a run.json. */
function withSeries(command: Command, rowsNeeded: boolean): Command {
  return command
    .requiredOption(
      "--run <dir>",
      "a pythia-train run, a folder of step{N}/ HF checkpoints (e.g. a converted GPT-NeoX run) or a pythia-hub pull folder",
    )
    .option(
      "--data <prefix>",
      rowsNeeded
        ? "pre-shuffled .bin/.idx rows in training order (needed without a run.json; overrides a run's own data)"
        : "pre-shuffled .bin/.idx rows in training order",
    )
    .option(
      "--rows-per-step <n>",
      "without a run.json: rows per optimizer step (Pythia: 1024)",
      integerArgument,
      1024,
    )
    .option(
      "--seq-length <n>",
      "without a run.json: sequence length, rows hold one more token (Pythia: 2048)",
      integerArgument,
      2048,
    );
}

function openSeries(options: {
  run: string;
  data?: string;
  rowsPerStep: number;
  seqLength: number;
}): Promise<CheckpointSeries> {
  return openCheckpointSeries({
    dir: options.run,
    dataPrefix: options.data,
    batchSize: options.rowsPerStep,
    seqLength: options.seqLength,
  });
}

/** `[step, loss]` of a run's training steps, from its `metrics.jsonl` (empty when absent). */
function trainLosses(runDir: string): Array<readonly [number, number]> {
  return readMetrics(runDir)
    .filter((line) => line.type === "train")
    .map((line) => [line.step, line.loss] as const);
}

/** Every step must be a checkpoint of the series, checked before hours of work (`--steps`). */
function checkSteps(run: CheckpointSeries, steps: readonly number[]): void {
  const missing = steps.filter((step) => !run.checkpointSteps.includes(step));
  if (missing.length > 0) {
    throw new AnalysisError(
      "INPUT",
      `--steps: ${run.dir} has no checkpoint ${missing.map((step) => `step${step}`).join(", ")} (it has ${run.checkpointSteps.join(", ")})`,
    );
  }
  if (steps.some((step, i) => i > 0 && step <= (steps[i - 1] as number))) {
    throw new AnalysisError("INPUT", `--steps must ascend, got ${steps.join(", ")}`);
  }
}

async function startCompute(options: { backend?: string; threads?: number }): Promise<void> {
  await startComputeFromOptions({ options, write: log });
}

function memorizationCommand(): Command {
  return withSeries(new Command("memorization"), true)
    .description(
      "memorization scores of training sequences at each checkpoint (k = 32 prompt, ℓ = 32 greedy)",
    )
    .requiredOption("--out <dir>", "output directory (scores files are resumable)")
    .option(
      "--steps <list>",
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
      mkdirSync(options.out, { recursive: true });
      try {
        await startCompute(options);
        const iterator = memorizeCheckpointsIter({
          run,
          steps: options.steps,
          start: options.start,
          count: options.count,
          outDir: options.out,
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
        const path = writeJson(options.out, "memorization.json", { run: options.run, checkpoints });
        const plot = await writePlot(join(options.out, "memorization"), memorizationByStepSvg(checkpoints));
        log(`wrote ${path}, ${plot.svg}`);
      } finally {
        run.close();
      }
    });
}

function poissonCommand(): Command {
  return new Command("poisson")
    .description("Poisson point-process check of a memorization scores file, with a Q-Q plot")
    .requiredOption("--scores <file>", "a scores file written by memorization")
    .requiredOption("--out <dir>", "output directory")
    .option("--bin-size <n>", "sequences per bin", integerArgument, 512)
    .option("--alpha <p>", "significance level, in (0, 1)", numberArgument, 0.05)
    .action(async (options) => {
      const scores = readScoresFile(options.scores);
      const result = poissonCheck({
        memorized: memorizedFlags(scores),
        binSize: options.binSize,
        alpha: options.alpha,
      });
      const path = writeJson(options.out, "poisson.json", {
        scores: options.scores,
        start: scores.start,
        ...result,
      });
      const plot = await writePlot(join(options.out, "poisson-qq"), poissonQqSvg(result));
      log(
        `λ̂ = ${result.lambda.toFixed(4)}, ${result.accepted ? "Poisson accepted" : "Poisson rejected"}; wrote ${path}, ${plot.svg}${plot.png ? `, ${plot.png}` : ""}`,
      );
    });
}

function termFrequencyCommand(): Command {
  return withSeries(new Command("term-frequency"), true)
    .description("operand frequencies as of each checkpoint and arithmetic accuracy vs frequency")
    .requiredOption("--out <dir>", "output directory (counts are cached there: a rerun resumes)")
    .option("--steps <list>", "checkpoint steps (default: all after step 0)", integerListArgument)
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
      const operations = String(options.operations).split(",") as ArithmeticOperation[];
      for (const operation of operations) {
        if (operation !== "multiplication" && operation !== "addition") {
          throw new AnalysisError("INPUT", `unknown operation "${operation}" (multiplication, addition)`);
        }
      }
      const run = await openSeries(options);
      await startCompute(options);
      const tokenizer = await loadPileTokenizer();
      const steps: number[] = options.steps ?? run.checkpointSteps.filter((step) => step > 0);
      checkSteps(run, steps);
      const limit: number | undefined = options.limit;
      const x1Values = Array.from({ length: Math.min(100, limit ?? 100) }, (_, i) => i);
      try {
        const started = performance.now();
        const frequencies = await termFrequency({
          rows: run.rows,
          checkpointSteps: steps,
          batchSize: run.batchSize,
          workers: options.workers,
          keys: new Set(x1Values.map(String)),
          options: { timeUnits: options.timeUnits },
          cacheDir: join(options.out, "counts"),
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
            }
          },
        });
        const checkpoints = [];
        for (const [i, step] of steps.entries()) {
          const frequency = frequencies.checkpoints[i]?.counts ?? {};
          const model = await loadCheckpoint({ dir: run.checkpointDir(step), trainable: false });
          const greedyUntil = modelGreedyUntil(model, tokenizer);
          const tasks = [];
          try {
            for (const operation of operations) {
              for (const shots of options.shots as number[]) {
                const result = await arithmeticEval({ operation, shots, greedyUntil, x1Values, limit });
                tasks.push({ ...result, gap: performanceGap({ accuracy: result.accuracy, frequency }) });
              }
            }
          } finally {
            model.dispose();
          }
          checkpoints.push({ step, frequency, tasks });
          log(`step${step}: ${tasks.length} task settings scored`);
        }
        const path = writeJson(options.out, "term-frequency.json", {
          run: options.run,
          x1Values,
          docsPerOperand: Math.min(50, limit ?? 50),
          checkpoints,
        });
        const plots = [];
        for (const operation of operations) {
          const shots = Math.max(...(options.shots as number[]));
          const series = checkpoints.map((checkpoint) => {
            const task = checkpoint.tasks.find((t) => t.operation === operation && t.shots === shots);
            return {
              label: `step${checkpoint.step}`,
              points: Object.entries(task?.accuracy ?? {}).map(([x1, accuracy]) => ({
                frequency: checkpoint.frequency[x1] ?? 0,
                accuracy,
              })),
            };
          });
          const plot = await writePlot(
            join(options.out, `accuracy-vs-frequency-${operation}`),
            accuracyFrequencySvg(series, `${operation}, ${shots}-shot: accuracy vs operand frequency`),
          );
          plots.push(plot.svg);
        }
        log(`wrote ${path}, ${plots.join(", ")}`);
      } finally {
        run.close();
      }
    });
}

function interveneCommand(): Command {
  return new Command("intervene")
    .description(
      "retrain the last steps of a run with the pronoun swap (he → she, …) into a new run, for gender-bias comparisons",
    )
    .requiredOption("--run <dir>", "the baseline @pythia/trainer run directory (not modified)")
    .requiredOption("--out <dir>", "the new run directory (a rerun resumes it)")
    .option(
      "--percent <p>",
      "intervene on the last p% of the steps, from the newest checkpoint at or before that point (Pythia: 7 and 21)",
      numberArgument,
      7,
    )
    .option(
      "--resume-step <n>",
      "resume from this baseline checkpoint instead (Pythia: 133000)",
      integerArgument,
    )
    .action(async (options) => {
      if (!(options.percent > 0 && options.percent <= 100)) {
        throw new AnalysisError("INPUT", `--percent must be in (0, 100], got ${options.percent}`);
      }
      await startCompute(options);
      let steps = 0;
      let logged = false;
      const summary = await interventionRun({
        baseline: options.run,
        out: options.out,
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
      mkdirSync(join(options.out, "plots"), { recursive: true });
      const plot = await writePlot(
        join(options.out, "plots", "loss-vs-baseline"),
        lineChartSvg({
          title: `Training loss: baseline vs pronoun swap from step ${summary.fromStep}`,
          xName: "step",
          yName: "loss",
          series: [
            {
              name: "baseline",
              points: trainLosses(options.run).filter(([step]) => step > summary.resumeStep),
            },
            {
              name: "intervened",
              points: trainLosses(options.out).filter(([step]) => step > summary.resumeStep),
            },
          ],
        }),
      );
      log(`wrote ${plot.svg}`);
      log(
        `intervened on steps ${summary.fromStep}–${summary.toStep - 1}; compare with: pythia-analyze gender-bias --checkpoint ${join(options.run, `step${summary.steps}`)} --compare ${join(options.out, `step${summary.steps}`)} --data-dir <bias data> --out <dir>`,
      );
    });
}

function genderBiasCommand(): Command {
  return new Command("gender-bias")
    .description(
      "WinoBias and CrowS-Pairs (gender) of a checkpoint; with --compare, a before/after report; with --run and --compare-run, both runs over their checkpoints",
    )
    .option("--checkpoint <dir>", "checkpoint directory (the baseline, with --compare)")
    .option("--compare <dir>", "the intervened checkpoint to report against --checkpoint")
    .option("--run <dir>", "a baseline run: evaluate its checkpoints (instead of --checkpoint)")
    .option("--compare-run <dir>", "the intervened run (pythia-analyze intervene) to evaluate beside --run")
    .option(
      "--steps <list>",
      "with --run: checkpoint steps (default: those of the intervention window)",
      integerListArgument,
    )
    .requiredOption("--data-dir <dir>", "the shared bias data directory (crows-pairs/, winobias/)")
    .requiredOption("--out <dir>", "output directory")
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
      const evaluate = async (dir: string) => {
        const model = await loadCheckpoint({ dir, trainable: false });
        try {
          return await genderBiasEval({
            model,
            tokenizer,
            dataDir: options.dataDir,
            greedyUntil: modelGreedyUntil(model, tokenizer),
            limit: options.limit,
          });
        } finally {
          model.dispose();
        }
      };
      if (options.run !== undefined) {
        await genderBiasSeries(options, evaluate);
        return;
      }
      const before = await evaluate(options.checkpoint);
      if (options.compare === undefined) {
        const path = writeJson(options.out, "gender-bias.json", {
          checkpoint: options.checkpoint,
          ...before,
        });
        log(
          `WinoBias bias ${before.winobias.bias.toFixed(4)}, CrowS pct_stereotype ${before.crowsPairs.pctStereotype.toFixed(4)}; wrote ${path}`,
        );
        return;
      }
      const report = genderBiasReport(before, await evaluate(options.compare));
      const path = writeJson(options.out, "gender-bias-report.json", {
        baseline: options.checkpoint,
        intervened: options.compare,
        ...report,
      });
      const plot = await writePlot(join(options.out, "gender-bias-report"), genderBiasReportSvg(report));
      log(`WinoBias bias change ${report.change.winobiasBias.toFixed(4)}; wrote ${path}, ${plot.svg}`);
    });
}

/** Both runs at each shared checkpoint of the intervention window, as Pythia reports 134000…143000. */
async function genderBiasSeries(
  options: { run: string; compareRun: string; steps?: number[]; out: string },
  evaluate: (dir: string) => Promise<GenderBiasResult>,
): Promise<void> {
  const baseline = await completeCheckpoints(options.run);
  const intervened = new Set(await completeCheckpoints(options.compareRun));
  const shared = baseline.filter((step) => intervened.has(step)).sort((a, b) => a - b);
  const steps = options.steps ?? shared;
  const missing = steps.filter((step) => !shared.includes(step));
  if (steps.length === 0 || missing.length > 0) {
    throw new AnalysisError(
      "INPUT",
      `${options.run} and ${options.compareRun} share the checkpoints ${shared.join(", ") || "none"}${missing.length > 0 ? `; not ${missing.join(", ")}` : ""}`,
    );
  }
  const points = [];
  for (const step of steps) {
    const before = await evaluate(join(options.run, `step${step}`));
    const after = await evaluate(join(options.compareRun, `step${step}`));
    points.push({ step, baseline: before, intervened: after, report: genderBiasReport(before, after) });
    log(
      `step${step}: WinoBias bias ${before.winobias.bias.toFixed(4)} → ${after.winobias.bias.toFixed(4)}, CrowS pct_stereotype ${before.crowsPairs.pctStereotype.toFixed(4)} → ${after.crowsPairs.pctStereotype.toFixed(4)}`,
    );
  }
  const path = writeJson(options.out, "gender-bias-series.json", {
    baseline: options.run,
    intervened: options.compareRun,
    steps: points,
  });
  const plots = [];
  for (const [name, metric, pick] of [
    ["winobias-bias", "WinoBias bias (pro − anti)", (r: GenderBiasResult) => r.winobias.bias],
    [
      "crows-pct-stereotype",
      "CrowS-Pairs gender pct_stereotype",
      (r: GenderBiasResult) => r.crowsPairs.pctStereotype,
    ],
  ] as const) {
    const plot = await writePlot(
      join(options.out, `gender-bias-${name}`),
      lineChartSvg({
        title: `${metric} by checkpoint`,
        xName: "step",
        yName: metric,
        series: [
          { name: "baseline", points: points.map((p) => [p.step, pick(p.baseline)] as const) },
          { name: "intervened", points: points.map((p) => [p.step, pick(p.intervened)] as const) },
        ],
      }),
    );
    plots.push(plot.svg);
  }
  log(`wrote ${path}, ${plots.join(", ")}`);
}

function logitLensCommand(): Command {
  return withSeries(new Command("logit-lens"), false)
    .description(
      "per-layer next-token predictions and KL to the final layer, across checkpoints, with a heatmap",
    )
    .requiredOption("--text <text>", "the text to run the lens on (Pile tokenizer)")
    .requiredOption("--out <dir>", "output directory")
    .option("--steps <list>", "checkpoint steps (default: all)", integerListArgument)
    .action(async (options) => {
      const run = await openSeries(options);
      run.close();
      await startCompute(options);
      const tokenizer = await loadPileTokenizer();
      const steps: number[] = options.steps ?? run.checkpointSteps;
      checkSteps(run, steps);
      const inputIds = tokenizer.encode(options.text);
      if (inputIds.length === 0) {
        throw new AnalysisError("INPUT", "--text encodes to no tokens; give some text");
      }
      const checkpoints: Array<{ step: number; layers: Array<LogitLensLayer & { topTokenText: string[] }> }> =
        [];
      for (const step of steps) {
        const model = await loadCheckpoint({ dir: run.checkpointDir(step), trainable: false });
        try {
          const result = await logitLens({ model, inputIds });
          checkpoints.push({
            step,
            layers: result.layers.map((layer) => ({
              ...layer,
              topTokenText: layer.topTokens.map((id) => tokenizer.decode([id])),
            })),
          });
        } finally {
          model.dispose();
        }
      }
      const path = writeJson(options.out, "logit-lens.json", {
        run: options.run,
        text: options.text,
        inputIds,
        checkpoints,
      });
      const layerCount = checkpoints[0]?.layers.length ?? 0;
      const plot = await writePlot(
        join(options.out, "logit-lens-kl"),
        heatmapSvg({
          title: "Logit lens: mean KL(final ‖ layer) in nats",
          rows: Array.from({ length: layerCount }, (_, i) => (i === 0 ? "embed" : `layer ${i}`)),
          columns: checkpoints.map((c) => `step${c.step}`),
          values: Array.from({ length: layerCount }, (_, layer) =>
            checkpoints.map((c) => c.layers[layer]?.meanKl ?? 0),
          ),
          rowName: "layer",
          columnName: "checkpoint",
        }),
      );
      log(`wrote ${path}, ${plot.svg}`);
    });
}

function tunedLensCommand(): Command {
  return withSeries(new Command("tuned-lens"), true)
    .description(
      "train a tuned lens (one affine translator per layer; tuned-lens defaults) on a checkpoint, over the run's training rows",
    )
    .requiredOption("--out <dir>", "output directory (the lens goes to tuned-lens-step{N}/)")
    .option("--step <n>", "checkpoint step (default: the newest)", integerArgument)
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
      const inputIds = options.text === undefined ? [] : tokenizer.encode(options.text);
      if (options.text !== undefined && inputIds.length === 0) {
        throw new AnalysisError("INPUT", "--text encodes to no tokens; give some text");
      }
      const run = await openSeries(options);
      try {
        await startCompute(options);
        const step: number | undefined = options.step ?? run.checkpointSteps.at(-1);
        if (step === undefined || !run.checkpointSteps.includes(step)) {
          throw new AnalysisError(
            "INPUT",
            `${options.run} has no checkpoint ${step === undefined ? "" : `step${step}`}; saved: ${run.checkpointSteps.join(", ") || "none"}`,
          );
        }
        const total = run.rowCount;
        const length: number = Math.min(options.tokens ?? run.rowLength - 1, run.rowLength - 1);
        const batch = (index: number) =>
          run
            .rows((index * options.batchSize) % Math.max(1, total - options.batchSize + 1), options.batchSize)
            .map((row) => Array.from(row.subarray(0, length)));
        const model = await loadCheckpoint({ dir: run.checkpointDir(step), trainable: false });
        try {
          const lens = await trainTunedLens({
            model,
            batch,
            steps: options.trainSteps,
            onEvent: (event) => {
              if (event.step === 1 || event.step % 10 === 0 || event.step === options.trainSteps) {
                log(
                  `lens step ${event.step}: mean KL ${event.meanLoss.toFixed(4)} nats (lr ${event.lr.toExponential(2)})`,
                );
              }
            },
          });
          const lensDir = join(options.out, `tuned-lens-step${step}`);
          await saveTunedLens({
            lens,
            dir: lensDir,
            baseModel: run.checkpointDir(step),
            baseModelRevision: `step${step}`,
          });
          log(`wrote ${lensDir}`);
          if (options.text !== undefined) {
            const logit = await logitLens({ model, inputIds });
            const tuned = await logitLens({ model, inputIds, lens });
            const layers = logit.layers.map((layer, i) => ({
              layer: layer.layer,
              logitLensKl: layer.meanKl,
              tunedLensKl: tuned.layers[i]?.meanKl ?? 0,
              logitLensTop: layer.topTokens.map((id) => tokenizer.decode([id])),
              tunedLensTop: (tuned.layers[i]?.topTokens ?? []).map((id) => tokenizer.decode([id])),
            }));
            const path = writeJson(options.out, "tuned-lens.json", {
              run: options.run,
              step,
              text: options.text,
              inputIds,
              layers,
            });
            const plot = await writePlot(
              join(options.out, "tuned-lens-kl"),
              heatmapSvg({
                title: `step${step}: mean KL(final ‖ layer) in nats, logit vs tuned lens`,
                rows: layers.map((l) => (l.layer === 0 ? "embed" : `layer ${l.layer}`)),
                columns: ["logit lens", "tuned lens"],
                values: layers.map((l) => [l.logitLensKl, l.tunedLensKl]),
                rowName: "layer",
                columnName: "lens",
              }),
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

async function main(argv: string[]): Promise<void> {
  const program = new Command("pythia-analyze")
    .description(
      "Pythia's analyses over a training run: memorization, Poisson check, term frequency, gender bias, logit and tuned lens",
    )
    .version(
      (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
        .version,
    )
    .exitOverride();
  for (const command of [
    memorizationCommand(),
    poissonCommand(),
    termFrequencyCommand(),
    interveneCommand(),
    genderBiasCommand(),
    logitLensCommand(),
    tunedLensCommand(),
  ]) {
    if (command.name() !== "poisson") {
      command.addOption(backendOption()).addOption(threadsOption());
    }
    program.addCommand(command.exitOverride());
  }
  await runCli({
    name: "pythia-analyze",
    program,
    argv,
    isUserError: (error) => TokenizerError.isInstance(error),
  });
}

await main(process.argv);
