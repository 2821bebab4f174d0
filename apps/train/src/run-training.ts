/** Training with a live progress display, then the loss plot and the final report. */
import { completeCheckpointSteps, readMetrics } from "@pythia/core/run";
import type { HubUploader } from "@pythia/hub";
import { parameterCount } from "@pythia/model";
import { train, TrainingError, type DataSource, type TrainConfig, type TrainingData } from "@pythia/trainer";
import { NAME } from "./name.js";
import { plotLossCurve } from "./plot.js";
import { createProgressDisplay, type ProgressDisplay } from "./progress.js";
import { finalReport } from "./report.js";
import type { RunPlan } from "./run-plan.js";

/** Trains the plan, reporting each step to `onStep` and queueing each checkpoint on `uploader`. */
export async function runTraining(
  plan: RunPlan,
  config: TrainConfig,
  data: TrainingData,
  signal: AbortSignal,
  onStep: (step: number) => void,
  uploader: HubUploader | null = null,
  source?: DataSource,
): Promise<void> {
  const parameters = parameterCount(config.model).total.toLocaleString("en-US");
  const shape = `${config.steps} steps of ${config.batchSize} × ${config.seqLength} tokens (micro-batch ${config.microBatchSize})`;
  process.stderr.write(
    plan.continuing
      ? `${NAME}: resuming ${plan.out} (${parameters} parameters, ${shape}) on ${data.prefix}\n`
      : `${NAME}: training ${plan.modelName} (${parameters} parameters) for ${shape} on ${data.prefix}; run directory ${plan.out}\n`,
  );
  const started = performance.now();
  const display: ProgressDisplay = await createProgressDisplay();
  let fromStep = 0;
  let summary;
  try {
    summary = await train({
      config: plan.config,
      data,
      out: plan.out,
      resume: plan.resume,
      allowDataChange: plan.allowDataChange,
      ...(source === undefined ? {} : { dataSource: source }),
      signal,
      onEvent: (event) => {
        if (event.type === "run-start") {
          fromStep = event.fromStep;
          onStep(event.fromStep);
          if (event.resumed) {
            display.log(`resumed from step${event.fromStep}`);
          }
        } else if (event.type === "checkpoint-rejected") {
          display.log(
            `${NAME}: warning: ${event.dir} fails its manifest (${event.failures.map((failure) => failure.detail).join("; ")}); moved it to ${event.movedTo} and resumed from step${event.resumeFrom}`,
          );
        } else if (event.type === "metrics-repaired") {
          display.log(
            `${NAME}: warning: ${event.file}:${event.line}: removed a torn last line (${event.reason})`,
          );
        } else if (event.type === "data-identity-recorded") {
          display.log(
            `${NAME}: note: ${event.runJson} recorded no data identity (an older run); recorded that of ${event.identity.train.prefix}, which later resumes must match`,
          );
        } else if (event.type === "data-changed") {
          display.log(
            `${NAME}: warning: continuing from step${event.step} on other data (${event.changes.map((change) => change.field).join(", ")} changed; --allow-data-change, recorded in run.json dataChanges)`,
          );
        } else if (event.type === "validation-missing") {
          display.log(
            `${NAME}: step${event.step} has no validation record (the run stopped before it); validating now`,
          );
        } else if (event.type === "step-end") {
          onStep(event.step);
        } else if (event.type === "checkpoint-written") {
          // Uploads run in the background; training does not wait for them.
          uploader?.enqueue(event.dir);
        }
        display.onEvent(event);
      },
    });
  } catch (error) {
    throw withCliOverride(error);
  } finally {
    display.stop();
  }
  const plot = await plotLossCurve({ out: plan.out, title: `${plan.modelName}: loss` });
  const report = finalReport({
    out: plan.out,
    modelName: plan.modelName,
    steps: config.steps,
    fromStep,
    summary,
    metrics: readMetrics({ dir: plan.out }),
    checkpoints: await completeCheckpointSteps({ dir: plan.out }),
    plot,
    elapsedMs: performance.now() - started,
    alreadyFinished: fromStep >= config.steps,
  });
  process.stdout.write(`${report.join("\n")}\n`);
}

/** The library's default fix for a refused data change (`dataChangedError` without `override`). */
const LIBRARY_OVERRIDE = "pass allowDataChange (pythia-train: --allow-data-change)";

/** `train()`'s refusals name the library option `allowDataChange`; from the command line, the flag is the fix. */
function withCliOverride(error: unknown): unknown {
  if (!TrainingError.isInstance(error) || !error.message.includes("allowDataChange")) {
    return error;
  }
  const message = error.message
    .replace(LIBRARY_OVERRIDE, "pass --allow-data-change")
    .replace(/\ballowDataChange\b/g, "--allow-data-change");
  return new TrainingError(error.code, message, { cause: error });
}
