import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../files.js";
import { RunError } from "./run-errors.js";
import {
  RUN_FORMAT,
  RunJsonFormatSchema,
  type DataChangeFormat,
  type DataIdentityFormat,
  type RunConfigFormat,
  type RunDataFormat,
  type RunJsonFormat,
} from "./run-format.js";
import { resolveStoredPath, toStoredPath } from "./run-paths.js";

/** File name of a run's description. */
export const RUN_JSON = "run.json";

/** A run's `run.json` read as a domain value: every path absolute. */
export interface RunJson<Config extends RunConfigFormat = RunConfigFormat> {
  /** The run directory, absolute. */
  dir: string;
  /** `pythia-run/1`, or `legacy` for a run written before `run.json` had a version. */
  format: typeof RUN_FORMAT | "legacy";
  /** The resolved training configuration (`TrainConfig` of `@pythia/trainer`). */
  config: Config;
  /** The training data; `prefix`, `validationPrefix` and `indexMaps` are absolute paths. */
  data: RunDataFormat;
  /** What `initCompute` selected (`ComputeInfo` of `@pythia/model`). */
  compute: Record<string, unknown> | null;
  /** Library versions (`tfjs`). */
  versions: Record<string, string>;
  /** The data's identity (paths absolute), or `null` for a run written before it was recorded. */
  dataIdentity: DataIdentityFormat | null;
  /** Resumes that continued on other data, oldest first (paths absolute). */
  dataChanges: DataChangeFormat[];
  /** `run.json` as stored (paths as written), for showing it (e.g. in a model card). */
  stored: RunJsonFormat;
}

/** Parameters of `writeRunJson`. */
export interface WriteRunJsonParams {
  /** The run directory (must exist). */
  dir: string;
  /** The resolved training configuration. */
  config: RunConfigFormat;
  /** The training data; paths absolute or relative to `cwd`. */
  data: RunDataFormat;
  /** `computeInfo()` of `@pythia/model` (`null` before `initCompute`). */
  compute?: object | null;
  versions?: Record<string, string>;
  /** The data's identity (`datasetIdentity` and the order); paths absolute or relative to `cwd`. */
  dataIdentity?: DataIdentityFormat;
  /** Resumes that continued on other data, oldest first. */
  dataChanges?: readonly DataChangeFormat[];
  /** What relative paths in `data` are relative to. @default process.cwd() */
  cwd?: string;
}

/** Writes `<dir>/run.json` (version 1, paths relative to the run), atomically; returns what was stored. */
export function writeRunJson(params: WriteRunJsonParams): RunJsonFormat {
  const dir = resolve(params.cwd ?? process.cwd(), params.dir);
  const store = (path: string) => toStoredPath({ runDir: dir, path, cwd: params.cwd });
  const data = mapDataPaths(params.data, store);
  const json: RunJsonFormat = {
    format: RUN_FORMAT,
    config: params.config,
    data,
    ...(params.compute === undefined ? {} : { compute: params.compute as Record<string, unknown> | null }),
    versions: params.versions ?? {},
    ...(params.dataIdentity === undefined
      ? {}
      : { dataIdentity: mapIdentityPaths(params.dataIdentity, store) }),
    ...(params.dataChanges === undefined || params.dataChanges.length === 0
      ? {}
      : {
          dataChanges: params.dataChanges.map((change) => ({
            ...change,
            previous: mapIdentityPaths(change.previous, store),
          })),
        }),
  };
  writeFileAtomic(join(dir, RUN_JSON), `${JSON.stringify(json, null, 2)}\n`);
  return json;
}

/** Parameters of `readRunJson`. */
export interface ReadRunJsonParams {
  /** The run directory. */
  dir: string;
  /** Where a legacy run's relative paths are tried last. @default process.cwd() */
  cwd?: string;
}

/**
 * Reads and validates `<dir>/run.json`, resolving its paths (see `resolveStoredPath`), or returns
 * `null` when the directory has none.
 * @throws RunError (`RUN_JSON`) when it is not JSON or does not match the format.
 */
export function readRunJsonIfExists(params: ReadRunJsonParams): RunJson | null {
  const dir = resolve(params.dir);
  const path = join(dir, RUN_JSON);
  if (!existsSync(path)) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new RunError(
      "RUN_JSON",
      `${path}: not valid JSON (${(error as Error).message}); restore it from a copy of the run`,
      { cause: error },
    );
  }
  const parsed = RunJsonFormatSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new RunError(
      "RUN_JSON",
      `${path}: not a @pythia/trainer run.json (${issues}); pass the output directory of a training run`,
    );
  }
  const json = parsed.data;
  const legacy = json.format === undefined;
  const data = mapDataPaths(json.data, (stored, suffix) =>
    resolveStoredPath({ runDir: dir, stored, legacy, suffix, cwd: params.cwd }),
  );
  return {
    dir,
    format: json.format ?? "legacy",
    config: json.config,
    data,
    compute: json.compute ?? null,
    versions: json.versions ?? {},
    dataIdentity:
      json.dataIdentity === undefined
        ? null
        : mapIdentityPaths(json.dataIdentity, (stored) => resolveStoredPath({ runDir: dir, stored, legacy })),
    dataChanges: (json.dataChanges ?? []).map((change) => ({
      ...change,
      previous: mapIdentityPaths(change.previous, (stored) =>
        resolveStoredPath({ runDir: dir, stored, legacy }),
      ),
    })),
    stored: json,
  };
}

/**
 * `readRunJsonIfExists`, for a directory that must be a run.
 * @throws RunError (`RUN_JSON`) when `run.json` is missing, not JSON, or does not match the format.
 */
export function readRunJson(params: ReadRunJsonParams): RunJson {
  const run = readRunJsonIfExists(params);
  if (run === null) {
    throw new RunError(
      "RUN_JSON",
      `${params.dir}: no ${RUN_JSON}; pass the output directory of a @pythia/trainer run (it holds run.json, metrics.jsonl and step{N}/)`,
    );
  }
  return run;
}

/** `data` with every path field mapped (`suffix`: what must exist for the path to be found). */
function mapDataPaths(data: RunDataFormat, map: (path: string, suffix: string) => string): RunDataFormat {
  if (data.kind === "preshuffled") {
    return {
      ...data,
      prefix: map(data.prefix, ".idx"),
      ...(data.validationPrefix === undefined
        ? {}
        : { validationPrefix: map(data.validationPrefix, ".idx") }),
    };
  }
  return {
    ...data,
    prefix: map(data.prefix, ".idx"),
    ...(data.indexMaps === undefined
      ? {}
      : {
          indexMaps: {
            docIdx: map(data.indexMaps.docIdx, ""),
            sampleIdx: map(data.indexMaps.sampleIdx, ""),
            shuffleIdx: map(data.indexMaps.shuffleIdx, ""),
          },
        }),
  };
}

/** `identity` with every path mapped. */
function mapIdentityPaths(identity: DataIdentityFormat, map: (path: string) => string): DataIdentityFormat {
  return {
    ...identity,
    train: { ...identity.train, prefix: map(identity.train.prefix) },
    ...(identity.validation === undefined
      ? {}
      : { validation: { ...identity.validation, prefix: map(identity.validation.prefix) } }),
    ...(identity.tokenizer === undefined
      ? {}
      : { tokenizer: { ...identity.tokenizer, path: map(identity.tokenizer.path) } }),
    ...(identity.inputs === undefined
      ? {}
      : { inputs: identity.inputs.map((input) => ({ ...input, path: map(input.path) })) }),
  };
}
