import { existsSync, rmSync } from "node:fs";
import { DataloaderError, IndexedDataset, planIndexMaps } from "@pythia/dataloader";
import {
  heldOutDocuments,
  openBatchSource,
  requestedSamples,
  type BatchSource,
  type TrainingData,
} from "./batch-source.js";
import type { TrainConfig } from "./train-config.js";
import { TrainingError } from "./training-errors.js";

/** Parameters of `checkTrainingData`. */
export interface CheckTrainingDataParams {
  data: TrainingData;
  config: TrainConfig;
}

/**
 * Checks, before a run writes anything, that every token id of the data is inside the model's
 * vocabulary (one streaming pass over each `.bin`) and that the data holds enough tokens for the
 * requested samples.
 * @throws TrainingError (code `DATA`) in one line naming the file, the bad id and its byte offset, and the fix.
 */
export function checkTrainingData(params: CheckTrainingDataParams): void {
  const { data, config } = params;
  const prefixes = [data.prefix];
  if (data.kind === "preshuffled" && data.validationPrefix !== undefined) {
    prefixes.push(data.validationPrefix);
  }
  for (const prefix of prefixes) {
    const dataset = openDataset(prefix);
    try {
      const vocabSize = config.model.vocabSize;
      const violation = dataset.checkVocab(vocabSize);
      if (violation !== null) {
        throw new TrainingError(
          "DATA",
          `${prefix}.bin: token id ${violation.value} at byte offset ${violation.byteOffset} (item ${violation.item}, position ${violation.position}) is outside the model's vocabulary of ${vocabSize} ids; re-tokenize the data with the model's tokenizer or raise model.vocabSize`,
        );
      }
      if (prefix === data.prefix) {
        checkEnoughTokens(dataset, data, config);
      }
    } finally {
      dataset.close();
    }
  }
}

/**
 * Checks the data (`checkTrainingData`), then opens it for training. If opening fails and `out` did
 * not exist before, removes what opening created there (the cached index maps), so a failed start
 * leaves no half-made run directory.
 */
export function openCheckedBatchSource(params: CheckTrainingDataParams & { out: string }): BatchSource {
  checkTrainingData(params);
  return openBatchSourceLeavingNothing(params);
}

/**
 * Opens the data for training (`openBatchSource`); if that fails and `out` did not exist before,
 * removes what opening created there (the cached index maps).
 */
export function openBatchSourceLeavingNothing(
  params: CheckTrainingDataParams & { out: string },
): BatchSource {
  const existed = existsSync(params.out);
  try {
    return openBatchSource(params.data, params.config, params.out);
  } catch (error) {
    if (!existed) {
      rmSync(params.out, { recursive: true, force: true });
    }
    throw error;
  }
}

function openDataset(prefix: string): IndexedDataset {
  try {
    return IndexedDataset.open(prefix);
  } catch (error) {
    if (DataloaderError.isInstance(error)) {
      throw new TrainingError("DATA", error.message, { cause: error });
    }
    throw error;
  }
}

function checkEnoughTokens(dataset: IndexedDataset, data: TrainingData, config: TrainConfig): void {
  const needed = config.steps * config.batchSize;
  if (data.kind === "preshuffled") {
    const rows = Math.floor(dataset.tokenCount / (config.seqLength + 1));
    if (rows < needed) {
      throw new TrainingError(
        "DATA",
        `${data.prefix}: ${rows} rows of ${config.seqLength + 1} tokens, but ${config.steps} steps × ${config.batchSize} need ${needed}; use more data or fewer steps`,
      );
    }
    return;
  }
  // GPT-NeoX repeats epochs until the samples are served, so the training documents must hold at
  // least one token and the plan must fit GPT-NeoX's limits (int32 positions, 2^53 tokens).
  const documents = dataset.length;
  const held = heldOutDocuments(documents, data.validationFraction ?? 0.01);
  const train = Int32Array.from({ length: documents - held }, (_, i) => i);
  try {
    planIndexMaps({
      sizes: dataset.sizes,
      documents: train,
      numSamples: requestedSamples(config.steps, config.batchSize),
      seqLength: config.seqLength,
      seed: config.seed,
    });
  } catch (error) {
    if (DataloaderError.isInstance(error)) {
      throw new TrainingError(
        "DATA",
        `${data.prefix}: the ${documents - held} training documents cannot serve ${needed} samples (${error.message}); use more data or fewer steps`,
        { cause: error },
      );
    }
    throw error;
  }
}
