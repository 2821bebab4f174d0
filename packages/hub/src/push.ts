// Pushing checkpoints to the Hub: one checkpoint, a whole run, or in the background during training.
export type { PushEvent, PushOptions, PushSummary, RevisionPushResult } from "./push-types.js";
export { describeCheck } from "./push-session.js";
export { pushCheckpoint, pushCheckpointIter, type PushCheckpointParams } from "./push-checkpoint.js";
export { pushRun, pushRunIter, type PushRunParams } from "./push-run.js";
export { HubUploader, type HubUploaderParams } from "./hub-uploader.js";
