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

/**
 * A tokenized dataset's identity: what `--resume` compares to refuse other data. `binSampleSha256` is
 * the fast checksum of the `.bin` (see `datasetIdentity`); the `.idx` is hashed in full.
 */
export const DatasetIdentityFormatSchema = z.object({
  prefix: z.string().min(1).describe("the `.bin/.idx` prefix (relative to the run when it holds it)"),
  idxBytes: z.number().int().nonnegative(),
  idxSha256: z.string().regex(/^[0-9a-f]{64}$/),
  binBytes: z.number().int().nonnegative(),
  binSampleSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe("sha256 of the size (8 bytes, little-endian), the first MiB and the last MiB of the .bin"),
});

/** A file the run read to make its data (an `--input` corpus, the tokenizer). */
export const FileIdentityFormatSchema = z.object({
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** The data order: everything besides the tokens that decides which sample each step reads. */
export const DataOrderFormatSchema = z.looseObject({
  kind: z.enum(["index-map", "preshuffled"]),
  seed: z.number().int().nonnegative(),
  seqLength: z.number().int().positive(),
  numSamples: z.number().int().nonnegative().describe("samples requested from the index maps"),
  validationFraction: z.number().min(0).max(1).optional(),
  trainDocuments: z.number().int().nonnegative().optional(),
  validationDocuments: z.number().int().nonnegative().optional(),
  epochs: z.number().int().nonnegative().optional(),
});

/** `dataIdentity` of `run.json`: the run's inputs, pinned (docs/decisions/0019-what-resume-promises.md). */
export const DataIdentityFormatSchema = z.object({
  train: DatasetIdentityFormatSchema,
  validation: DatasetIdentityFormatSchema.optional().describe("a pre-shuffled run's validation rows"),
  order: DataOrderFormatSchema,
  tokenizer: FileIdentityFormatSchema.optional().describe("when the run tokenized its input"),
  inputs: z.array(FileIdentityFormatSchema).optional().describe("the files the run tokenized"),
});

/** One field that differs between two data identities. */
export const DataIdentityChangeFormatSchema = z.object({
  field: z.string().describe("dotted path in dataIdentity, e.g. train.idxSha256"),
  previous: z.union([z.string(), z.number(), z.null()]),
  current: z.union([z.string(), z.number(), z.null()]),
});

/** An entry of `dataChanges`: a resume that continued on other data (`allowDataChange`). */
export const DataChangeFormatSchema = z.object({
  step: z.number().int().nonnegative().describe("the checkpoint the run continued from on the new data"),
  changes: z.array(DataIdentityChangeFormatSchema),
  previous: DataIdentityFormatSchema,
});

/** `run.json`, any version this code reads (`format` is absent in legacy runs). */
export const RunJsonFormatSchema = z.looseObject({
  format: z.literal(RUN_FORMAT).optional(),
  config: RunConfigFormatSchema,
  data: RunDataFormatSchema,
  /** What `initCompute` selected (`ComputeInfo` of `@pythia/model`); kept loose as it grows. */
  compute: z.record(z.string(), z.unknown()).nullable().optional(),
  versions: z.record(z.string(), z.string()).optional(),
  /** The data's identity; absent in runs written before it was recorded. */
  dataIdentity: DataIdentityFormatSchema.optional(),
  /** Resumes that continued on other data, oldest first. */
  dataChanges: z.array(DataChangeFormatSchema).optional(),
});

/** `run.json` as stored. */
export type RunJsonFormat = z.infer<typeof RunJsonFormatSchema>;
/** `data` of `run.json`. */
export type RunDataFormat = z.infer<typeof RunDataFormatSchema>;
/** The training-configuration fields of `run.json` every reader relies on. */
export type RunConfigFormat = z.infer<typeof RunConfigFormatSchema>;
/** `dataIdentity` of `run.json`. */
export type DataIdentityFormat = z.infer<typeof DataIdentityFormatSchema>;
/** A tokenized dataset's identity. */
export type DatasetIdentityFormat = z.infer<typeof DatasetIdentityFormatSchema>;
/** A source file's identity. */
export type FileIdentityFormat = z.infer<typeof FileIdentityFormatSchema>;
/** The data order's parameters. */
export type DataOrderFormat = z.infer<typeof DataOrderFormatSchema>;
/** One field that differs between two data identities. */
export type DataIdentityChange = z.infer<typeof DataIdentityChangeFormatSchema>;
/** An entry of `dataChanges`. */
export type DataChangeFormat = z.infer<typeof DataChangeFormatSchema>;
