/** Training with a live progress display, then the loss plot and the final report. */
import { completeCheckpointSteps, readMetrics } from "@pythia/core/run";
import type { HubUploader } from "@pythia/hub";
import { parameterCount } from "@pythia/model";
import { train, type TrainConfig, type TrainingData } from "@pythia/trainer";
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
      signal,
      onEvent: (event) => {
        if (event.type === "run-start") {
          fromStep = event.fromStep;
          onStep(event.fromStep);
          if (event.resumed) {
            display.log(`resumed from step${event.fromStep}`);
          }
        } else if (event.type === "step-end") {
          onStep(event.step);
        } else if (event.type === "checkpoint-written") {
          // Uploads run in the background; training does not wait for them.
          uploader?.enqueue(event.dir);
        }
        display.onEvent(event);
      },
    });
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
