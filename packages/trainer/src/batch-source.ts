import {
  GPT2Dataset,
  IndexedDataset,
  indexMapBatch,
  indexMapFilenames,
  loadOrBuildIndexMaps,
  preshuffledBatch,
  DataloaderError,
} from "@pythia/dataloader";
import type { RunDataFormat } from "@pythia/core/run";
import type { TrainConfig } from "./train-config.js";
import { TrainingError } from "./training-errors.js";

/** Where the training tokens come from. */
export type TrainingData =
  | {
      /** An unshuffled `.bin/.idx` (one document per item) read in GPT-NeoX's GPT2Dataset order. */
      kind: "index-map";
      prefix: string;
      /** Hold out this fraction of the documents (the last ones) for validation. @default 0.01 */
      validationFraction?: number;
      /** Where the `.npy` index maps are cached. @default `<out>/index-maps` */
      cacheDir?: string;
    }
  | {
      /** Pythia's released pre-shuffled format: rows of seqLength + 1 tokens in training order. */
      kind: "preshuffled";
      prefix: string;
      /** Optional pre-shuffled validation rows. */
      validationPrefix?: string;
    };

/** Batches in training order, and validation batches. */
export interface BatchSource {
  /** Rows `[step·B, (step+1)·B)`, row-major `[B, seqLength + 1]`. */
  trainBatch(step: number): Int32Array;
  /** Validation micro-batch i (`[microBatchSize, seqLength + 1]`), or null without validation data. */
  validationBatch(index: number): Int32Array | null;
  /** What run.json records about the data (paths as given: absolute or relative to the working directory). */
  describe(): RunDataFormat;
  close(): void;
}

/** GPT-NeoX's requested sample count: train_iters · global_batch · 1.005, rounded up (147164160 for Pythia). */
export function requestedSamples(steps: number, batchSize: number): number {
  return Math.ceil(steps * batchSize * 1.005);
}

/** How many of `documents` (the last ones) are held out for validation with `fraction`. */
export function heldOutDocuments(documents: number, fraction: number): number {
  return fraction > 0 && documents >= 2
    ? Math.min(documents - 1, Math.max(1, Math.round(documents * fraction)))
    : 0;
}

/** The index-map cache files a run of `config` on index-map `data` reads or writes (training and validation). */
export function indexMapCacheFiles(
  data: Extract<TrainingData, { kind: "index-map" }>,
  config: TrainConfig,
  out: string,
): string[] {
  const common = {
    prefix: data.prefix,
    seqLength: config.seqLength,
    seed: config.seed,
    cacheDir: data.cacheDir ?? `${out}/index-maps`,
  };
  return [
    indexMapFilenames({
      ...common,
      name: "train",
      numSamples: requestedSamples(config.steps, config.batchSize),
    }),
    indexMapFilenames({
      ...common,
      name: "valid",
      numSamples: config.evalBatches * config.microBatchSize + 1,
    }),
  ].flatMap((files) => [files.docIdx, files.sampleIdx, files.shuffleIdx]);
}

/** Opens the data for a run, checking it holds enough samples for every step. */
export function openBatchSource(data: TrainingData, config: TrainConfig, out: string): BatchSource {
  try {
    return data.kind === "index-map" ? indexMapSource(data, config, out) : preshuffledSource(data, config);
  } catch (error) {
    if (DataloaderError.isInstance(error)) {
      throw new TrainingError("DATA", error.message, { cause: error });
    }
    throw error;
  }
}

function indexMapSource(
  data: Extract<TrainingData, { kind: "index-map" }>,
  config: TrainConfig,
  out: string,
): BatchSource {
  const dataset = IndexedDataset.open(data.prefix);
  const documents = dataset.length;
  const fraction = data.validationFraction ?? 0.01;
  const held = heldOutDocuments(documents, fraction);
  const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);
  const cacheDir = data.cacheDir ?? `${out}/index-maps`;
  const common = {
    prefix: data.prefix,
    sizes: dataset.sizes,
    seqLength: config.seqLength,
    seed: config.seed,
    cacheDir,
  };
  const trainMaps = loadOrBuildIndexMaps({
    ...common,
    name: "train",
    documents: range(0, documents - held),
    numSamples: requestedSamples(config.steps, config.batchSize),
  });
  const train = new GPT2Dataset({ dataset, indexMaps: trainMaps });
  const needed = config.steps * config.batchSize;
  if (train.length < needed) {
    throw new TrainingError(
      "DATA",
      `${data.prefix}: the data order serves ${train.length} samples but ${config.steps} steps × ${config.batchSize} need ${needed}`,
    );
  }
  const validation =
    held === 0
      ? null
      : new GPT2Dataset({
          dataset,
          indexMaps: loadOrBuildIndexMaps({
            ...common,
            name: "valid",
            documents: range(documents - held, documents),
            numSamples: config.evalBatches * config.microBatchSize + 1,
          }),
        });
  return {
    trainBatch: (step) => indexMapBatch({ dataset: train, step, batchSize: config.batchSize }),
    validationBatch: (index) =>
      validation === null
        ? null
        : indexMapBatch({ dataset: validation, step: index, batchSize: config.microBatchSize }),
    describe: () => ({
      kind: "index-map" as const,
      prefix: data.prefix,
      validationFraction: fraction,
      documents,
      tokens: dataset.tokenCount,
      dtype: dataset.dtype.name,
      trainDocuments: documents - held,
      validationDocuments: held,
      trainEpochs: trainMaps.numEpochs,
      indexMaps: trainMaps.files,
    }),
    close: () => dataset.close(),
  };
}

function preshuffledSource(
  data: Extract<TrainingData, { kind: "preshuffled" }>,
  config: TrainConfig,
): BatchSource {
  const dataset = IndexedDataset.open(data.prefix);
  const rows = Math.floor(dataset.tokenCount / (config.seqLength + 1));
  if (rows < config.steps * config.batchSize) {
    throw new TrainingError(
      "DATA",
      `${data.prefix}: ${rows} rows of ${config.seqLength + 1} tokens, but ${config.steps} steps × ${config.batchSize} need ${config.steps * config.batchSize}`,
    );
  }
  const validation = data.validationPrefix === undefined ? null : IndexedDataset.open(data.validationPrefix);
  return {
    trainBatch: (step) =>
      preshuffledBatch({ dataset, step, batchSize: config.batchSize, seqLength: config.seqLength }),
    validationBatch: (index) =>
      validation === null
        ? null
        : preshuffledBatch({
            dataset: validation,
            step: index,
            batchSize: config.microBatchSize,
            seqLength: config.seqLength,
          }),
    describe: () => ({
      kind: "preshuffled" as const,
      prefix: data.prefix,
      ...(data.validationPrefix === undefined ? {} : { validationPrefix: data.validationPrefix }),
      rows,
      tokens: dataset.tokenCount,
      dtype: dataset.dtype.name,
    }),
    close: () => {
      dataset.close();
      validation?.close();
    },
  };
}
