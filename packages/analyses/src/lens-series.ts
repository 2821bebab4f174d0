/**
 * The lenses over a checkpoint series: the logit lens at each checkpoint, and the tuned lens's
 * training rows and its comparison with the logit lens, with their heatmaps.
 */
import { drain } from "@pythia/core";
import { checkpointName } from "@pythia/core/run";
import { loadCheckpoint, type GPTNeoXModel } from "@pythia/model";
import { AnalysisError } from "./analysis-errors.js";
import { logitLens, type LogitLensLayer } from "./logit-lens.js";
import { heatmapSvg } from "./plots.js";
import { seriesSteps } from "./series-steps.js";
import type { CheckpointSeries } from "./training-run.js";
import type { TunedLens } from "./tuned-lens.js";

/** Token ids → text, e.g. `tokenizer.decode`. */
export type Decode = (ids: number[]) => string;

/** A layer of the logit lens with its top tokens as text. */
export type DecodedLensLayer = LogitLensLayer & { topTokenText: string[] };

/** Parameters of `logitLensSeriesIter`. */
export interface LogitLensSeriesParams {
  series: CheckpointSeries;
  /** @default every checkpoint */
  steps?: readonly number[];
  inputIds: readonly number[];
  decode: Decode;
}

/** The logit lens of one checkpoint. */
export interface LogitLensCheckpoint {
  step: number;
  layers: DecodedLensLayer[];
}

/** Runs the logit lens on `inputIds` at each checkpoint, yielding each as it is done. */
export async function* logitLensSeriesIter(
  params: LogitLensSeriesParams,
): AsyncGenerator<LogitLensCheckpoint, LogitLensCheckpoint[]> {
  if (params.inputIds.length === 0) {
    throw new AnalysisError("INPUT", "the text encodes to no tokens; give some text");
  }
  const steps = seriesSteps({ series: params.series, steps: params.steps });
  const checkpoints: LogitLensCheckpoint[] = [];
  for (const step of steps) {
    const model = await loadCheckpoint({ dir: params.series.checkpointDir(step), trainable: false });
    try {
      const result = await logitLens({ model, inputIds: params.inputIds });
      const checkpoint = {
        step,
        layers: result.layers.map((layer) => ({
          ...layer,
          topTokenText: layer.topTokens.map((id) => params.decode([id])),
        })),
      };
      checkpoints.push(checkpoint);
      yield checkpoint;
    } finally {
      model.dispose();
    }
  }
  return checkpoints;
}

/** Drains `logitLensSeriesIter`. */
export function logitLensSeries(params: LogitLensSeriesParams): Promise<LogitLensCheckpoint[]> {
  return drain(logitLensSeriesIter(params));
}

/** Heatmap of the mean KL(final ‖ layer) per layer × checkpoint. */
export function logitLensSeriesSvg(checkpoints: readonly LogitLensCheckpoint[]): string {
  const layerCount = checkpoints[0]?.layers.length ?? 0;
  return heatmapSvg({
    title: "Logit lens: mean KL(final ‖ layer) in nats",
    rows: Array.from({ length: layerCount }, (_, i) => (i === 0 ? "embed" : `layer ${i}`)),
    columns: checkpoints.map((checkpoint) => checkpointName(checkpoint.step)),
    values: Array.from({ length: layerCount }, (_, layer) =>
      checkpoints.map((checkpoint) => checkpoint.layers[layer]?.meanKl ?? 0),
    ),
    rowName: "layer",
    columnName: "checkpoint",
  });
}

/**
 * The checkpoint a tuned lens is trained on: `step`, or the newest.
 * @throws AnalysisError (`INPUT`) when the series has no such checkpoint.
 */
export function lensCheckpointStep(series: CheckpointSeries, step?: number): number {
  const chosen = step ?? series.checkpointSteps.at(-1);
  if (chosen === undefined || !series.checkpointSteps.includes(chosen)) {
    throw new AnalysisError(
      "INPUT",
      `${series.dir} has no checkpoint ${chosen === undefined ? "" : checkpointName(chosen)}; saved: ${series.checkpointSteps.join(", ") || "none"}`,
    );
  }
  return chosen;
}

/**
 * The tuned lens's training batches: batch i is `batchSize` consecutive training rows, starting at
 * `i · batchSize` and wrapping around the rows the series has, each cut to its first `tokens` tokens
 * (default: the whole row less its label token).
 */
export function tunedLensRowBatches(params: {
  series: CheckpointSeries;
  batchSize: number;
  tokens?: number;
}): (index: number) => number[][] {
  const { series, batchSize } = params;
  const length = Math.min(params.tokens ?? series.rowLength - 1, series.rowLength - 1);
  const starts = Math.max(1, series.rowCount - batchSize + 1);
  return (index) =>
    series.rows((index * batchSize) % starts, batchSize).map((row) => Array.from(row.subarray(0, length)));
}

/** One layer of the logit-vs-tuned-lens comparison. */
export interface LensComparisonLayer {
  layer: number;
  logitLensKl: number;
  tunedLensKl: number;
  logitLensTop: string[];
  tunedLensTop: string[];
}

/** The logit lens and the tuned lens side by side on one text: mean KL and top tokens per layer. */
export async function compareLenses(params: {
  model: GPTNeoXModel;
  lens: TunedLens;
  inputIds: readonly number[];
  decode: Decode;
}): Promise<LensComparisonLayer[]> {
  const logit = await logitLens({ model: params.model, inputIds: params.inputIds });
  const tuned = await logitLens({ model: params.model, inputIds: params.inputIds, lens: params.lens });
  return logit.layers.map((layer, i) => ({
    layer: layer.layer,
    logitLensKl: layer.meanKl,
    tunedLensKl: tuned.layers[i]?.meanKl ?? 0,
    logitLensTop: layer.topTokens.map((id) => params.decode([id])),
    tunedLensTop: (tuned.layers[i]?.topTokens ?? []).map((id) => params.decode([id])),
  }));
}

/** Heatmap of mean KL per layer, logit lens vs tuned lens, at one checkpoint. */
export function lensComparisonSvg(step: number, layers: readonly LensComparisonLayer[]): string {
  return heatmapSvg({
    title: `${checkpointName(step)}: mean KL(final ‖ layer) in nats, logit vs tuned lens`,
    rows: layers.map((layer) => (layer.layer === 0 ? "embed" : `layer ${layer.layer}`)),
    columns: ["logit lens", "tuned lens"],
    values: layers.map((layer) => [layer.logitLensKl, layer.tunedLensKl]),
    rowName: "layer",
    columnName: "lens",
  });
}
