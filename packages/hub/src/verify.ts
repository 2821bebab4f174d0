import { downloadFile } from "@huggingface/hub";
import pLimit from "p-limit";
import { checkpointSteps, type CheckpointScheduleParams } from "@pythia/core";
import { checkpointName, MANIFEST_JSON, parseManifest } from "@pythia/core/run";
import {
  hubError,
  listRevisionFiles,
  resolveConnection,
  type HubConnection,
  type ResolvedConnection,
} from "./hub-client.js";
import { HubSyncError } from "./hub-errors.js";
import { listRevisions } from "./pull.js";
import { checkRevision, type ExpectedFile, type RevisionCheck } from "./revision-check.js";
import { parseRevisionsManifest, REVISIONS_MANIFEST, type RevisionsManifest } from "./revisions-manifest.js";

/** Parameters of `verifyRepo`. */
export interface VerifyParams extends HubConnection {
  /** The expected schedule. @default the one in `revisions.json` on `main` */
  schedule?: CheckpointScheduleParams;
  /** Expected steps, overriding any schedule. */
  expectedSteps?: number[];
  /**
   * Pairs of steps whose weights may be byte-identical. @default [[0, 1]]: GPT-NeoX's learning rate is
   * exactly 0 at the first update, so step1's weights equal step0's in Pythia and in `@pythia/trainer` runs.
   */
  allowIdenticalWeights?: Array<[number, number]>;
  /** Revisions checked at once. @default 4 */
  concurrency?: number;
}

/** One revision's verification. */
export interface RevisionReport extends RevisionCheck {
  step: number;
  commit: string;
  /** sha256 of the weights a loader reads (see `loadedWeightFiles`), by path. */
  weights: Record<string, string>;
}

/** Result of `verifyRepo`; `ok` is false when any list is non-empty or a revision fails. */
export interface VerifyReport {
  repo: string;
  ok: boolean;
  /** Where the expected revisions came from. */
  expectedFrom: "steps" | "schedule" | "revisions.json" | "branches";
  expectedRevisions: string[];
  /** Expected revisions with no branch. */
  missingRevisions: string[];
  /** Branches outside the expectation (reported, not an error). */
  unexpectedRevisions: string[];
  revisions: RevisionReport[];
  /** Groups of revisions whose weights are byte-identical (Pythia's duplicated-blob bug). */
  duplicateWeights: Array<{ sha256: string; revisions: string[] }>;
  /** One line per problem, for people. */
  problems: string[];
}

const WEIGHTS = /(^|\/)(?!optimizer\.)[^/]*\.safetensors$/;
const SAFETENSORS_SHARD = /^model-\d+-of-\d+\.safetensors$/;
const TORCH_SHARD = /^pytorch_model-\d+-of-\d+\.bin$/;

/**
 * The weight files a loader reads from a revision with these files, in transformers' (and
 * `loadCheckpoint`'s) order: `model.safetensors`, else the shards of `model.safetensors.index.json`,
 * else `pytorch_model.bin`, else the shards of `pytorch_model.bin.index.json`; for other layouts every
 * `*.safetensors` but `optimizer.safetensors`. Pythia's revisions come in all four layouts.
 */
export function loadedWeightFiles(paths: readonly string[]): string[] {
  const top = new Set(paths.filter((path) => !path.includes("/")));
  if (top.has("model.safetensors")) {
    return ["model.safetensors"];
  }
  if (top.has("model.safetensors.index.json")) {
    return [...top].filter((path) => SAFETENSORS_SHARD.test(path)).sort();
  }
  if (top.has("pytorch_model.bin")) {
    return ["pytorch_model.bin"];
  }
  if (top.has("pytorch_model.bin.index.json")) {
    return [...top].filter((path) => TORCH_SHARD.test(path)).sort();
  }
  return paths.filter((path) => WEIGHTS.test(path)).sort();
}

async function readText(hub: ResolvedConnection, revision: string, path: string): Promise<string | null> {
  try {
    const blob = await downloadFile({
      repo: hub.repo,
      path,
      revision,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      fetch: hub.fetch,
      xet: false,
    });
    return blob === null ? null : await blob.text();
  } catch (error) {
    const wrapped = hubError(error, `reading ${hub.repo}@${revision}/${path}`, hub.signal);
    if (wrapped.status === 404) {
      return null;
    }
    throw wrapped;
  }
}

/**
 * Checks a repository against the expected checkpoint schedule: missing `step{N}` branches, missing or
 * wrong files in each (against `revisions.json` on `main`, else the branch's own `manifest.json`), and
 * revisions whose weights are byte-identical to another's. Never throws for a bad repository: read the report.
 */
export async function verifyRepo(params: VerifyParams): Promise<VerifyReport> {
  const hub = resolveConnection(params);
  const branches = await listRevisions(params);
  const manifestText = await readText(hub, "main", REVISIONS_MANIFEST);
  const manifest: RevisionsManifest | null =
    manifestText === null
      ? null
      : parseRevisionsManifest(manifestText, `${hub.repo}@main/${REVISIONS_MANIFEST}`);
  const schedule = params.schedule ?? manifest?.schedule ?? null;
  let expectedFrom: VerifyReport["expectedFrom"];
  let expectedSteps: number[];
  if (params.expectedSteps) {
    expectedFrom = "steps";
    expectedSteps = [...params.expectedSteps];
  } else if (schedule) {
    expectedFrom = "schedule";
    expectedSteps = checkpointSteps(schedule);
  } else if (manifest) {
    expectedFrom = "revisions.json";
    expectedSteps = manifest.revisions.map((entry) => entry.step);
  } else {
    expectedFrom = "branches";
    expectedSteps = branches.map((branch) => branch.step);
  }
  expectedSteps = [...new Set(expectedSteps)].sort((a, b) => a - b);
  const present = new Map(branches.map((branch) => [branch.revision, branch]));
  const expectedRevisions = expectedSteps.map(checkpointName);
  const missingRevisions = expectedRevisions.filter((revision) => !present.has(revision));
  const expectedSet = new Set(expectedRevisions);
  const unexpectedRevisions = branches
    .map((branch) => branch.revision)
    .filter((revision) => !expectedSet.has(revision));
  const problems: string[] = missingRevisions.map((revision) => `${revision}: no such branch`);
  const entries = new Map((manifest?.revisions ?? []).map((entry) => [entry.revision, entry]));

  const limit = pLimit(params.concurrency ?? 4);
  const revisions = await Promise.all(
    branches.map((branch) =>
      limit(async (): Promise<RevisionReport> => {
        const remote = await listRevisionFiles(hub, branch.commit);
        let expected: ExpectedFile[];
        const entry = entries.get(branch.revision);
        if (entry) {
          expected = Object.entries(entry.files).map(([path, file]) => ({ path, ...file }));
        } else {
          const text = await readText(hub, branch.commit, MANIFEST_JSON);
          if (text !== null) {
            const own = parseManifest(text, `${hub.repo}@${branch.revision}/${MANIFEST_JSON}`);
            expected = Object.entries(own.files).map(([path, file]) => ({ path, ...file }));
          } else {
            // No manifest anywhere: at least what from_pretrained needs, in whichever layout is there.
            const present = remote.map((file) => file.path);
            const weightFiles = loadedWeightFiles(present);
            const layout = present.includes("model.safetensors.index.json")
              ? ["model.safetensors.index.json"]
              : present.includes("pytorch_model.bin.index.json") && !present.includes("pytorch_model.bin")
                ? ["pytorch_model.bin.index.json"]
                : [];
            expected = [
              "config.json",
              ...(weightFiles.length > 0 ? [...layout, ...weightFiles] : ["model.safetensors"]),
            ].map((path) => ({
              path,
              bytes: remote.find((file) => file.path === path)?.size ?? -1,
              sha256: remote.find((file) => file.path === path)?.lfs?.oid ?? "",
            }));
          }
        }
        const check = checkRevision(branch.revision, expected, remote);
        const loaded = new Set(loadedWeightFiles(remote.map((file) => file.path)));
        const weights = Object.fromEntries(
          remote
            .filter((file) => loaded.has(file.path))
            .map((file) => [file.path, file.lfs?.oid ?? `git:${file.oid}`]),
        );
        return { ...check, step: branch.step, commit: branch.commit, weights };
      }),
    ),
  );
  for (const revision of revisions) {
    if (revision.missingFiles.length > 0) {
      problems.push(`${revision.revision}: missing ${revision.missingFiles.join(", ")}`);
    }
    for (const file of revision.mismatchedFiles) {
      problems.push(`${revision.revision}: ${file.path}: ${file.reason}`);
    }
  }

  const allowed = new Set(
    (params.allowIdenticalWeights ?? [[0, 1]]).map(([a, b]) =>
      [checkpointName(a), checkpointName(b)].sort().join(" "),
    ),
  );
  const groups = new Map<string, string[]>();
  for (const revision of revisions) {
    const key = Object.entries(revision.weights)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([path, sha]) => `${path}:${sha}`)
      .join(",");
    if (key !== "") {
      groups.set(key, [...(groups.get(key) ?? []), revision.revision]);
    }
  }
  const duplicateWeights: VerifyReport["duplicateWeights"] = [];
  for (const [key, members] of groups) {
    if (members.length < 2 || allowed.has([...members].sort().join(" "))) {
      continue;
    }
    const sha256 = key.split(",")[0]?.split(":")[1] ?? "";
    duplicateWeights.push({ sha256, revisions: members });
    problems.push(`${members.join(", ")}: byte-identical weights (sha256 ${sha256})`);
  }
  return {
    repo: hub.repo,
    ok: problems.length === 0 && revisions.every((revision) => revision.ok),
    expectedFrom,
    expectedRevisions,
    missingRevisions,
    unexpectedRevisions,
    revisions,
    duplicateWeights,
    problems,
  };
}

/** Throws `HubSyncError("VERIFY")` listing the problems when `report.ok` is false. */
export function assertVerified(report: VerifyReport): void {
  if (!report.ok) {
    throw new HubSyncError("VERIFY", `${report.repo}: ${report.problems.join("; ")}`);
  }
}
