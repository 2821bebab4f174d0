import { join } from "node:path";
import {
  datasetIdentity,
  RUN_JSON,
  type DataIdentityChange,
  type DataIdentityFormat,
  type DataOrderFormat,
  type FileIdentityFormat,
  type RunDataFormat,
} from "@pythia/core/run";
import { requestedSamples, type TrainingData } from "./batch-source.js";
import type { TrainConfig } from "./train-config.js";
import { TrainingError } from "./training-errors.js";

/** What a run read to make its tokenized data, when it tokenized it (recorded in `run.json`). */
export interface DataSource {
  /** The `tokenizer.json` that tokenized the inputs. */
  tokenizer?: FileIdentityFormat;
  /** The files tokenized, in order. */
  inputs?: FileIdentityFormat[];
}

/** Parameters of `trainingDataIdentity`. */
export interface TrainingDataIdentityParams {
  data: TrainingData;
  config: TrainConfig;
  /** What the data was tokenized from, when the caller tokenized it. */
  source?: DataSource;
}

/**
 * The identity `run.json` records for a run's data: each dataset's `datasetIdentity` (from
 * `@pythia/core/run`), the data order's parameters, and the tokenizer and inputs when given.
 */
export async function trainingDataIdentity(params: TrainingDataIdentityParams): Promise<DataIdentityFormat> {
  const { data, config } = params;
  const indexMap = data.kind === "index-map";
  return {
    train: await datasetIdentity({ prefix: data.prefix }),
    ...(data.kind === "preshuffled" && data.validationPrefix !== undefined
      ? { validation: await datasetIdentity({ prefix: data.validationPrefix }) }
      : {}),
    order: {
      kind: data.kind,
      seed: config.seed,
      seqLength: config.seqLength,
      numSamples: indexMap
        ? requestedSamples(config.steps, config.batchSize)
        : config.steps * config.batchSize,
      ...(indexMap ? { validationFraction: data.validationFraction ?? 0.01 } : {}),
    },
    ...(params.source?.tokenizer === undefined ? {} : { tokenizer: params.source.tokenizer }),
    ...(params.source?.inputs === undefined ? {} : { inputs: params.source.inputs }),
  };
}

/** The order's document counts and epochs, from `describe()` of an opened index-map batch source. */
export function describedOrder(described: RunDataFormat): Partial<DataOrderFormat> {
  if (described.kind !== "index-map") {
    return {};
  }
  return {
    ...(described.trainDocuments === undefined ? {} : { trainDocuments: described.trainDocuments }),
    ...(described.validationDocuments === undefined
      ? {}
      : { validationDocuments: described.validationDocuments }),
    ...(described.trainEpochs === undefined ? {} : { epochs: described.trainEpochs }),
  };
}

/** Parameters of `dataChangedError`. */
export interface DataChangedErrorParams {
  /** The run directory. */
  out: string;
  /** What `run.json` records. */
  recorded: DataIdentityFormat;
  changes: readonly DataIdentityChange[];
  /** How to continue on the new data anyway. @default "pass allowDataChange (pythia-train: --allow-data-change)" */
  override?: string;
}

/**
 * The one-line error for a resume on other data: names `run.json`, each changed field with its old and
 * new value, the data the run was started with, and the fixes.
 */
export function dataChangedError(params: DataChangedErrorParams): TrainingError {
  const { recorded, changes } = params;
  const listed = changes
    .map((change) => `${change.field} was ${shown(change.previous)}, now ${shown(change.current)}`)
    .join("; ");
  const original =
    recorded.inputs !== undefined && recorded.inputs.length > 0
      ? `${recorded.train.prefix}, tokenized from ${recorded.inputs.map((input) => input.path).join(", ")}`
      : recorded.train.prefix;
  return new TrainingError(
    "DATA_CHANGED",
    `${join(params.out, RUN_JSON)}: dataIdentity: the data differs from the run's (${listed}); resume on the data the run was started with (${original}), ${params.override ?? "pass allowDataChange (pythia-train: --allow-data-change)"} to continue on this data, or start a new run`,
  );
}

/** A value for a message: hashes shortened to 12 hex digits. */
function shown(value: string | number | null): string {
  if (value === null) {
    return "none";
  }
  if (typeof value === "string" && /^[0-9a-f]{64}$/.test(value)) {
    return `${value.slice(0, 12)}…`;
  }
  return String(value);
}
