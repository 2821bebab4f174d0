/**
 * Pythia's gender-bias experiment as a run: resume a baseline run from a checkpoint near its end and
 * retrain the remaining steps with the pronoun swap, into a new run directory (the baseline is never
 * written). The same data order, schedule and optimizer state are used, so the two runs differ only
 * by the intervention; compare their checkpoints with `genderBiasEval`.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { drain, renameDurable, temporaryPath, writeFileAtomic } from "@pythia/core";
import { checkpointDir, checkpointName, completeCheckpointSteps, readRunJson } from "@pythia/core/run";
import { runTrainingInput, trainIter, type TrainEvent, type TrainSummary } from "@pythia/trainer";
import { AnalysisError } from "./analysis-errors.js";
import { interventionWindow, PRONOUN_SWAP_MAP, pronounSwapIntervention } from "./pronoun-intervention.js";

/** Parameters of `interventionRunIter`. */
export interface InterventionRunParams {
  /** The baseline `@pythia/trainer` run directory (read only). */
  baseline: string;
  /** The new run directory (a rerun with the same arguments resumes it). */
  out: string;
  /**
   * Intervene on the last `percent`% of the steps (Pythia: 7, and 21 for the long run), resuming from
   * the newest saved checkpoint at or before that point.
   */
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
  const baseline = readRunJson({ dir: params.baseline });
  const steps = baseline.config.steps;
  const baselineSteps = await completeCheckpointSteps({ dir: params.baseline });
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
    // The last `percent`% starts between checkpoints in general (7% of 143000 is at 132990): resume
    // from the newest saved checkpoint at or before that point (Pythia: 133000 → 143000).
    const computed = interventionWindow({ steps, percent: params.percent ?? 7 }).resumeStep;
    const resumeStep = baselineSteps.findLast((step) => step <= computed) ?? computed; // none: reported below
    window = { resumeStep, fromStep: resumeStep + 1, toStep: steps + 1 };
  }
  const map = params.map ?? PRONOUN_SWAP_MAP;
  const record: InterventionFileFormat = {
    baseline: resolve(params.baseline),
    resume_step: window.resumeStep,
    from_step: window.fromStep,
    to_step: window.toStep,
    intervention: "pronoun-swap",
    map: [...map],
  };
  const recordPath = join(params.out, "intervention.json");
  const outSteps = await completeCheckpointSteps({ dir: params.out });
  if (existsSync(recordPath)) {
    let previous: InterventionFileFormat;
    try {
      previous = JSON.parse(readFileSync(recordPath, "utf8")) as InterventionFileFormat;
    } catch (error) {
      throw new AnalysisError(
        "DATA_FORMAT",
        `${recordPath}: not valid JSON (${(error as Error).message}); choose a new output directory`,
      );
    }
    if (JSON.stringify(previous) !== JSON.stringify(record)) {
      throw new AnalysisError(
        "INPUT",
        `${params.out} holds an intervention run with other settings (${recordPath}: resume step ${previous.resume_step} of ${previous.baseline}); choose a new output directory`,
      );
    }
  } else if (outSteps.length > 0) {
    throw new AnalysisError(
      "INPUT",
      `${params.out} already holds checkpoints; choose a new output directory`,
    );
  }
  if (outSteps.length === 0) {
    // A new run, or one interrupted before its first checkpoint: start it from the baseline's.
    if (!baselineSteps.includes(window.resumeStep)) {
      throw new AnalysisError(
        "INPUT",
        `${params.baseline} has no complete checkpoint ${checkpointName(window.resumeStep)} to resume from; pass one of its saved steps as the resume step (${baselineSteps.join(", ")})`,
      );
    }
    mkdirSync(params.out, { recursive: true });
    writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
    // The trainer removes temporary names (`step{N}.tmp-*`) at start, so an interrupted copy is never
    // taken for a checkpoint.
    copyDirectoryAtomic(
      checkpointDir(params.baseline, window.resumeStep),
      checkpointDir(params.out, window.resumeStep),
    );
    const maps = join(params.baseline, "index-maps");
    const mapsCopy = join(params.out, "index-maps");
    if (baseline.data.kind === "index-map" && existsSync(maps) && !existsSync(mapsCopy)) {
      copyDirectoryAtomic(maps, mapsCopy); // the same order, not rebuilt
    }
  }
  const recorded = runTrainingInput(baseline, { indexMapsRun: params.out });
  const summary = yield* trainIter({
    config: recorded.config,
    data: recorded.data,
    out: params.out,
    resume: true,
    // The copied checkpoint comes without a run.json: adopt the baseline's data (the same data, by
    // construction), which run.json then records; later resumes are checked against it.
    allowDataChange: true,
    interventions: [pronounSwapIntervention({ fromStep: window.fromStep, toStep: window.toStep, map })],
    signal: params.signal,
  });
  return { ...summary, ...window };
}

/** Copies a folder under a temporary name, then renames it: `to` is complete or absent. */
function copyDirectoryAtomic(from: string, to: string): void {
  const temporary = temporaryPath(to);
  try {
    cpSync(from, temporary, { recursive: true });
    renameDurable(temporary, to);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Drains `interventionRunIter`. */
export async function interventionRun(
  params: InterventionRunParams & { onEvent?: (event: TrainEvent) => void },
): Promise<InterventionRunSummary> {
  return drain(interventionRunIter(params), params.onEvent);
}
