import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The seed-7 checkpoint and the full task data (licences differ, so they are not committed) come from
// ../shared/fixtures and ../shared/data.
export { sharedData, sharedFixture } from "@pythia/core/testing";

/** Absolute path of a committed fixture under test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Absolute path inside this package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/** One record of the harness fixtures (`test/fixtures/harness-v0.3.0/<task>.jsonl`). */
export interface FixtureRecord {
  task: string;
  doc_id: number;
  source_index: number;
  doc: unknown;
  requests: Array<{
    context: string;
    continuation: string;
    context_ids: number[];
    continuation_ids: number[];
    ll: number;
    is_greedy: boolean;
    input_len: number;
    continuation_token_logprobs: number[];
    greedy_ids: number[];
    greedy_gaps: number[];
  }>;
  metrics: Record<string, number>;
}

/** The 40 first docs of a task in harness order, as the real harness scored them. */
export function readHarnessFixture(task: string): FixtureRecord[] {
  return readFileSync(fixturePath(`harness-v0.3.0/${task}.jsonl`), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as FixtureRecord);
}

export const FIXTURE_TASKS = [
  "lambada_openai",
  "piqa",
  "wsc",
  "winogrande",
  "arc_easy",
  "arc_challenge",
  "sciq",
  "logiqa",
] as const;
