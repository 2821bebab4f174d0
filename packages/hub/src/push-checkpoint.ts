import { drain } from "@pythia/core";
import { eventChannel } from "./event-channel.js";
import { hubError } from "./hub-client.js";
import { readLocalCheckpoint } from "./local-checkpoint.js";
import { PushSession } from "./push-session.js";
import type { PushEvent, PushOptions, RevisionPushResult } from "./push-types.js";

/** Parameters of `pushCheckpointIter`. */
export interface PushCheckpointParams extends PushOptions {
  /** A `step{N}` directory written by `@pythia/trainer`. */
  dir: string;
}

/**
 * Uploads one checkpoint directory as branch `step{N}` as soon as it is written (creating the repository
 * and the branch when missing), then verifies the branch's files and LFS sha256 against its manifest.
 * Already-verified revisions are skipped; incomplete ones are finished. Does not touch `main`.
 */
export function pushCheckpointIter(
  params: PushCheckpointParams,
): AsyncGenerator<PushEvent, RevisionPushResult> {
  return eventChannel(async (emit) => {
    const session = new PushSession(params, emit);
    try {
      return await session.pushCheckpoint(await readLocalCheckpoint({ dir: params.dir }));
    } catch (error) {
      throw hubError(error, `pushing ${params.dir}`, params.signal);
    }
  });
}

/** `pushCheckpointIter` drained; events go to `onEvent`. */
export function pushCheckpoint(
  params: PushCheckpointParams & { onEvent?: (event: PushEvent) => void },
): Promise<RevisionPushResult> {
  return drain(pushCheckpointIter(params), params.onEvent);
}
