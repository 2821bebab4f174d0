import { hasMarker, PythiaError } from "@pythia/core";

const MARKER = Symbol.for("@pythia/hub.error");

/** Stable codes of `HubSyncError`. */
export type HubSyncErrorCode =
  /** No token, or a token that does not start with `hf_`, or one the Hub refused (401/403). */
  | "TOKEN"
  /** A bad argument: repository name, revision name, run directory. */
  | "INPUT"
  /** A local checkpoint directory is incomplete or its files do not match its manifest. */
  | "CHECKPOINT"
  /** The Hub answered with an error (after retries). */
  | "REMOTE"
  /** An uploaded or downloaded revision does not match its manifest. */
  | "VERIFY"
  /** The Hub could not be reached at all (connection refused, unknown host, timeout), after retries. */
  | "NETWORK"
  /** The operation was aborted through its `signal`. */
  | "ABORTED";

/** Everything `@pythia/hub` throws; the message names the repository, revision or file and the fix. */
export class HubSyncError extends PythiaError<HubSyncErrorCode> {
  /** HTTP status of the Hub response, when the error comes from one. */
  readonly status: number | undefined;
  override name = "HubSyncError";
  readonly [MARKER] = true;

  constructor(code: HubSyncErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }

  /** True for errors thrown by any copy of `@pythia/hub`. */
  static override isInstance(error: unknown): error is HubSyncError {
    return hasMarker(error, MARKER);
  }
}
