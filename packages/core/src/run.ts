/**
 * `@pythia/core/run`: the run directory, the contract between the trainer, the Hub sync, evaluation,
 * the analyses and the apps (docs/decisions/0012-run-contract.md):
 *
 *     <run>/run.json          the configuration and data (versioned; paths relative to the run)
 *     <run>/run.lock          held by the process writing into the run (pid, hostname, start time)
 *     <run>/metrics.jsonl     one record per training step or validation
 *     <run>/step{N}/          a checkpoint, complete when its manifest.json matches its files
 *     <run>/index-maps/       the data order's .npy cache (index-map runs)
 *     <run>/data/             tokenized data the run holds (optional)
 */
export { RunError, type RunErrorCode } from "./run/run-errors.js";
export {
  RUN_FORMAT,
  DataIdentityFormatSchema,
  RunJsonFormatSchema,
  type DataChangeFormat,
  type DataIdentityChange,
  type DataIdentityFormat,
  type DataOrderFormat,
  type DatasetIdentityFormat,
  type FileIdentityFormat,
  type RunConfigFormat,
  type RunDataFormat,
  type RunJsonFormat,
} from "./run/run-format.js";
export {
  RUN_JSON,
  readRunJson,
  readRunJsonIfExists,
  writeRunJson,
  type ReadRunJsonParams,
  type RunJson,
  type WriteRunJsonParams,
} from "./run/run-json.js";
export { resolveStoredPath, toStoredPath, type ResolveStoredPathParams } from "./run/run-paths.js";
export {
  METRICS_JSONL,
  appendMetrics,
  readMetrics,
  resetMetrics,
  truncateMetrics,
  type MetricsRecord,
  type MetricsWarning,
  type ReadMetricsParams,
} from "./run/metrics.js";
export { checkpointDir, checkpointName, parseCheckpointName } from "./run/checkpoint-name.js";
export {
  MANIFEST_JSON,
  parseManifest,
  readManifest,
  verifyCheckpoint,
  writeManifest,
  type CheckpointManifest,
  type CheckpointVerification,
  type ManifestFailure,
  type VerifyCheckpointParams,
  type WriteManifestParams,
} from "./run/manifest.js";
export {
  assertNoCheckpoints,
  completeCheckpointSteps,
  type AssertNoCheckpointsParams,
  type CompleteCheckpointsParams,
} from "./run/complete-checkpoints.js";
export {
  BIN_SAMPLE_BYTES,
  compareDataIdentity,
  datasetIdentity,
  fileIdentity,
  type DatasetIdentityParams,
  type FileIdentityParams,
} from "./run/data-identity.js";
export {
  findResumeCheckpoint,
  setAsideCheckpoint,
  type FindResumeCheckpointParams,
  type RejectedCheckpoint,
  type ResumeCheckpoint,
  type SetAsideCheckpointParams,
} from "./run/resume-checkpoint.js";
export {
  RUN_LOCK,
  acquireRunLock,
  type AcquireRunLockParams,
  type RunLock,
  type RunLockOwner,
} from "./run/run-lock.js";
export { temporaryPath } from "./files.js";
export {
  isTemporaryName,
  removeTemporaryFiles,
  type RemoveTemporaryFilesParams,
} from "./run/temporary-names.js";
