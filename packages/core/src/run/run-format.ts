import { z } from "zod";

// `run.json` as written (wire format). Version 1 stores every path relative to the run directory
// (POSIX separators), or absolute for data the run does not hold. Runs written before the version
// field existed ("legacy") stored paths relative to the directory training was started from.

/** The `format` of `run.json` this code writes. */
export const RUN_FORMAT = "pythia-run/1";

/** The three index-map cache files of an index-map run. */
export const IndexMapFilesFormatSchema = z.object({
  docIdx: z.string(),
  sampleIdx: z.string(),
  shuffleIdx: z.string(),
});

/** `data` of an index-map run: an unshuffled `.bin/.idx` read in GPT-NeoX's GPT2Dataset order. */
export const IndexMapDataFormatSchema = z.looseObject({
  kind: z.literal("index-map"),
  prefix: z.string().min(1).describe("the `.bin/.idx` prefix"),
  validationFraction: z.number().min(0).max(1).optional().describe("documents held out (default 0.01)"),
  documents: z.number().int().nonnegative().optional(),
  tokens: z.number().int().nonnegative().optional(),
  dtype: z.string().optional(),
  trainDocuments: z.number().int().nonnegative().optional(),
  validationDocuments: z.number().int().nonnegative().optional(),
  trainEpochs: z.number().int().nonnegative().optional(),
  indexMaps: IndexMapFilesFormatSchema.optional().describe("the training index-map cache files"),
});

/** `data` of a pre-shuffled run: Pythia's released rows of seqLength + 1 tokens in training order. */
export const PreshuffledDataFormatSchema = z.looseObject({
  kind: z.literal("preshuffled"),
  prefix: z.string().min(1),
  validationPrefix: z.string().min(1).optional(),
  rows: z.number().int().nonnegative().optional(),
  tokens: z.number().int().nonnegative().optional(),
  dtype: z.string().optional(),
});

/** `data` of `run.json`. */
export const RunDataFormatSchema = z.discriminatedUnion("kind", [
  IndexMapDataFormatSchema,
  PreshuffledDataFormatSchema,
]);

/**
 * The fields of the training configuration every reader relies on (the trainer's `TrainConfig`,
 * which `@pythia/trainer` validates in full; other fields pass through).
 */
export const RunConfigFormatSchema = z.looseObject({
  model: z.record(z.string(), z.unknown()),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  microBatchSize: z.number().int().positive(),
  seqLength: z.number().int().positive(),
  checkpointEvery: z.number().int().positive(),
  logSpacedUpTo: z.number().int().nonnegative().optional(),
  seed: z.number().int().nonnegative(),
});

/** `run.json`, any version this code reads (`format` is absent in legacy runs). */
export const RunJsonFormatSchema = z.looseObject({
  format: z.literal(RUN_FORMAT).optional(),
  config: RunConfigFormatSchema,
  data: RunDataFormatSchema,
  /** What `initCompute` selected (`ComputeInfo` of `@pythia/model`); kept loose as it grows. */
  compute: z.record(z.string(), z.unknown()).nullable().optional(),
  versions: z.record(z.string(), z.string()).optional(),
});

/** `run.json` as stored. */
export type RunJsonFormat = z.infer<typeof RunJsonFormatSchema>;
/** `data` of `run.json`. */
export type RunDataFormat = z.infer<typeof RunDataFormatSchema>;
/** The training-configuration fields of `run.json` every reader relies on. */
export type RunConfigFormat = z.infer<typeof RunConfigFormatSchema>;
