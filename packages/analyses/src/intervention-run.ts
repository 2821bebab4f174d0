/**
 * Pythia's gender-bias experiment as a run: resume a baseline run from a checkpoint near its end and
 * retrain the remaining steps with the pronoun swap, into a new run directory (the baseline is never
 * written). The same data order, schedule and optimizer state are used, so the two runs differ only
 * by the intervention; compare their checkpoints with `genderBiasEval`.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { drain, writeFileAtomic } from "@pythia/core";
import {
  checkpointName,
  completeCheckpoints,
  trainIter,
  type TrainEvent,
  type TrainSummary,
} from "@pythia/trainer";
import { AnalysisError } from "./analysis-error.js";
import { interventionWindow, PRONOUN_SWAP_MAP, pronounSwapIntervention } from "./pronoun-intervention.js";
import { readRunJson, runTrainingData } from "./training-run.js";

/** Parameters of `interventionRunIter`. */
export interface InterventionRunParams {
  /** The baseline `@pythia/trainer` run directory (read only). */
  baseline: string;
  /** The new run directory (a rerun with the same arguments resumes it). */
  out: string;
  /** Intervene on the last `percent`% of the steps (Pythia: 7, and 21 for the long run). */
  percent?: number;
  /** Or resume from this baseline checkpoint step (Pythia: 133000); wins over `percent`. */
  resumeStep?: number;
  /** Token-id map. @default PRONOUN_SWAP_MAP */
  map?: ReadonlyMap<number, number>;
  signal?: AbortSignal;
}

/** What `interventionRun` returns: the trainer's summary and the window. */
export interface InterventionRunSummary extends TrainSummary {
  resumeStep: number;
  fromStep: number;
  toStep: number;
}

/** `<out>/intervention.json`: what was changed, from where. */
interface InterventionFileFormat {
  baseline: string;
  resume_step: number;
  from_step: number;
  to_step: number;
  intervention: "pronoun-swap";
  map: Array<[number, number]>;
}

/** Resumes `baseline` at the window's start with the pronoun swap, writing a new run to `out`. */
export async function* interventionRunIter(
  params: InterventionRunParams,
): AsyncGenerator<TrainEvent, InterventionRunSummary> {
  const json = readRunJson(params.baseline);
  const steps = json.config.steps;
  let window: { resumeStep: number; fromStep: number; toStep: number };
  if (params.resumeStep !== undefined) {
    if (!Number.isInteger(params.resumeStep) || params.resumeStep < 0 || params.resumeStep >= steps) {
      throw new AnalysisError(
        "INPUT",
        `resumeStep must be an integer in [0, ${steps}) for ${params.baseline} (${steps} steps), got ${params.resumeStep}`,
      );
    }
    window = { resumeStep: params.resumeStep, fromStep: params.resumeStep + 1, toStep: steps + 1 };
  } else {
    window = interventionWindow({ steps, percent: params.percent ?? 7 });
  }
  const map = params.map ?? PRONOUN_SWAP_MAP;
  const record: InterventionFileFormat = {
    baseline: params.baseline,
    resume_step: window.resumeStep,
    from_step: window.fromStep,
    to_step: window.toStep,
    intervention: "pronoun-swap",
    map: [...map],
  };
  const recordPath = join(params.out, "intervention.json");
  const fresh = !existsSync(recordPath);
  if (!fresh) {
    const previous = JSON.parse(readFileSync(recordPath, "utf8")) as InterventionFileFormat;
    if (JSON.stringify(previous) !== JSON.stringify(record)) {
      throw new AnalysisError(
        "INPUT",
        `${params.out} holds an intervention run with other settings (${recordPath}: resume step ${previous.resume_step} of ${previous.baseline}); choose a new output directory`,
      );
    }
  } else if (existsSync(params.out) && (await completeCheckpoints(params.out)).length > 0) {
    throw new AnalysisError(
      "INPUT",
      `${params.out} already holds checkpoints; choose a new output directory`,
    );
  }
  if (fresh || (await completeCheckpoints(params.out)).length === 0) {
    const baselineSteps = await completeCheckpoints(params.baseline);
    if (!baselineSteps.includes(window.resumeStep)) {
      const saved = [...baselineSteps].reverse();
      throw new AnalysisError(
        "INPUT",
        `${params.baseline} has no complete checkpoint ${checkpointName(window.resumeStep)} to resume from; pass one of its saved steps as the resume step (${saved.join(", ")})`,
      );
    }
    mkdirSync(params.out, { recursive: true });
    writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
    // Copy the resume checkpoint under a temporary name first (the trainer drops `step{N}.tmp-*`).
    const to = join(params.out, checkpointName(window.resumeStep));
    cpSync(join(params.baseline, checkpointName(window.resumeStep)), `${to}.tmp-copy`, { recursive: true });
    renameSync(`${to}.tmp-copy`, to);
    const maps = join(params.baseline, "index-maps");
    if (json.data.kind === "index-map" && existsSync(maps) && !existsSync(join(params.out, "index-maps"))) {
      cpSync(maps, join(params.out, "index-maps"), { recursive: true }); // the same order, not rebuilt
    }
  }
  const summary = yield* trainIter({
    config: json.config,
    data: runTrainingData(json, params.out),
    out: params.out,
    resume: true,
    interventions: [pronounSwapIntervention({ fromStep: window.fromStep, toStep: window.toStep, map })],
    signal: params.signal,
  });
  return { ...summary, ...window };
}

/** Drains `interventionRunIter`. */
export async function interventionRun(
  params: InterventionRunParams & { onEvent?: (event: TrainEvent) => void },
): Promise<InterventionRunSummary> {
  return drain(interventionRunIter(params), params.onEvent);
}
