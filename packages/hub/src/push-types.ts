import type { HubConnection } from "./hub-client.js";
import type { LocalCheckpoint } from "./local-checkpoint.js";
import type { RevisionCheck } from "./revision-check.js";

/** Options shared by every push entry point. */
export interface PushOptions extends HubConnection {
  /** Revisions uploaded at once. @default 2 */
  concurrency?: number;
  /** Upload with the xet protocol instead of LFS basic transfer. @default false */
  useXet?: boolean;
  /** Create the repository as private when it does not exist. @default false */
  private?: boolean;
}

/** Events of a push (`<noun>-<verb>`); only apps print them. */
export type PushEvent =
  | { type: "repo-created"; repo: string }
  /** A `step{N}` entry of the run that is not uploaded (no `manifest.json`: an incomplete checkpoint). */
  | { type: "checkpoint-skipped"; dir: string; reason: string }
  | { type: "revision-start"; revision: string; step: number; files: number; bytes: number }
  | { type: "revision-skipped"; revision: string; step: number; commit: string }
  | { type: "revision-committed"; revision: string; step: number; commit: string; files: string[] }
  | { type: "revision-verified"; revision: string; step: number; commit: string }
  | { type: "main-updated"; commit: string; final: string | null }
  | {
      type: "upload-progress";
      /** Bytes uploaded (or found already uploaded) so far, over `totalBytes` of the revisions started. */
      bytes: number;
      totalBytes: number;
      files: number;
      totalFiles: number;
      revisions: number;
      totalRevisions: number;
    };

/** What happened to one revision. */
export interface RevisionPushResult {
  revision: string;
  step: number;
  /** The branch's commit after verification. */
  commit: string;
  /** `uploaded`: new branch; `resumed`: the branch existed but was incomplete; `skipped`: already verified. */
  status: "uploaded" | "resumed" | "skipped";
  check: RevisionCheck;
  files: LocalCheckpoint["files"];
}

/** The verification summary of a push. */
export interface PushSummary {
  repo: string;
  /** Ascending by step. */
  revisions: RevisionPushResult[];
  /** The `main` commit carrying the model card, `revisions.json` and the final checkpoint; null when not updated. */
  main: { commit: string; final: string | null; changed: boolean } | null;
}
