import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";

/** Absolute path of a committed fixture under test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Absolute path inside this package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

function shared(envName: string, folder: string, relative: string): string | null {
  const root = process.env[envName] ?? resolve(packagePath("."), `../../../shared/${folder}`);
  const path = join(root, relative);
  if (existsSync(path)) {
    return path;
  }
  if (process.env.CI === "true") {
    throw new Error(
      `${path} is missing: set ${envName} to the shared ${folder} folder (CI must not skip these tests)`,
    );
  }
  return null;
}

/**
 * A reference file too large to commit (the seed-7 checkpoint), from `$PYTHIA_SHARED_FIXTURES` or
 * `<repo>/../shared/fixtures`. Null when absent, except under `CI=true`, where it fails the run.
 */
export function sharedFixture(relative: string): string | null {
  return shared("PYTHIA_SHARED_FIXTURES", "fixtures", relative);
}

/**
 * Full task data (licences differ, so it is not committed), from `$PYTHIA_SHARED_DATA` or
 * `<repo>/../shared/data`. Null when absent, except under `CI=true`.
 */
export function sharedData(relative: string): string | null {
  return shared("PYTHIA_SHARED_DATA", "data", relative);
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
