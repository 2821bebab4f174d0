export { HubSyncError, type HubSyncErrorCode } from "./hub-errors.js";
export { resolveToken, tokenFilePath, type ResolveTokenParams } from "./hub-token.js";
export { checkRepoName, type HubConnection, type RetryOptions } from "./hub-client.js";
export { readLocalCheckpoint, type LocalCheckpoint, type LocalCheckpointFile } from "./local-checkpoint.js";
export type { RevisionCheck, ExpectedFile } from "./revision-check.js";
export {
  parseRevisionsManifest,
  REVISIONS_MANIFEST,
  type RevisionEntry,
  type RevisionsManifest,
} from "./revisions-manifest.js";
export { modelCard, type ModelCardParams } from "./model-card.js";
export {
  describeCheck,
  HubUploader,
  pushCheckpoint,
  pushCheckpointIter,
  pushRun,
  pushRunIter,
  type HubUploaderParams,
  type PushCheckpointParams,
  type PushEvent,
  type PushOptions,
  type PushRunParams,
  type PushSummary,
  type RevisionPushResult,
} from "./push.js";
export {
  cacheRepoFolder,
  listRevisions,
  pull,
  pullIter,
  type HubRevision,
  type PulledRevision,
  type PullEvent,
  type PullParams,
} from "./pull.js";
export {
  assertVerified,
  verifyRepo,
  type RevisionReport,
  type VerifyParams,
  type VerifyReport,
} from "./verify.js";
