import type { CheckpointScheduleParams } from "@pythia/core";
import { HubSyncError } from "./hub-errors.js";

/** Name of the file on `main` that lists every revision and the sha256 of each of its files. */
export const REVISIONS_MANIFEST = "revisions.json";

/** One revision in `revisions.json`. */
export interface RevisionEntry {
  revision: string;
  step: number;
  /** Commit of the branch when it was verified. */
  commit: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** `revisions.json` on `main` (wire format; the keys are ours, so already camelCase). */
export interface RevisionsManifest {
  format: "pythia-hub.revisions/1";
  /** The checkpoint schedule the run followed, when known: `verify` expects exactly its steps. */
  schedule: CheckpointScheduleParams | null;
  /** The revision also committed to `main`. */
  final: string | null;
  /** Ascending by step. */
  revisions: RevisionEntry[];
}

/** Parses `revisions.json`; unknown formats throw with the value. */
export function parseRevisionsManifest(text: string, where: string): RevisionsManifest {
  let value: Partial<RevisionsManifest>;
  try {
    value = JSON.parse(text) as Partial<RevisionsManifest>;
  } catch (error) {
    throw new HubSyncError("VERIFY", `${where}: not JSON (${(error as Error).message})`);
  }
  if (value?.format !== "pythia-hub.revisions/1" || !Array.isArray(value.revisions)) {
    throw new HubSyncError(
      "VERIFY",
      `${where}: unknown format ${JSON.stringify(value?.format)} (expected "pythia-hub.revisions/1"); upgrade @pythia/hub`,
    );
  }
  return {
    format: value.format,
    schedule: value.schedule ?? null,
    final: value.final ?? null,
    revisions: value.revisions,
  };
}

/** Serialises deterministically (no timestamps), so an unchanged push writes identical bytes. */
export function formatRevisionsManifest(manifest: RevisionsManifest): string {
  const revisions = [...manifest.revisions].sort((a, b) => a.step - b.step);
  return `${JSON.stringify({ ...manifest, revisions }, null, 2)}\n`;
}
