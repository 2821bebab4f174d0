import { type FileHandle, mkdir, readFile, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { ModelError, SafetensorsError } from "./model-errors.js";
import {
  chunkBytesOf,
  errorCode,
  ioError,
  openForReading,
  readHeader,
  readSafetensors,
  readTensors,
  writeAll,
  writeFileAtomic,
  writeSafetensors,
} from "./safetensors-file.js";
import {
  DEFAULT_MAX_SHARD_BYTES,
  SHARD_FILE_PATTERN,
  compareCodePoints,
  isRecord,
  tensorField,
} from "./safetensors-internals.js";
import {
  type CheckpointTensors,
  type LoadCheckpointTensorsOptions,
  SAFETENSORS_INDEX_FILE,
  SAFETENSORS_SINGLE_FILE,
  type SafetensorsHeader,
  type SafetensorsInput,
  type SafetensorsTensorInfo,
  type SerializeSafetensorsOptions,
  type ShardedIndex,
  type TensorEntry,
  type WriteShardedSafetensorsOptions,
  type WrittenCheckpoint,
} from "./safetensors-types.js";
import { inputEntries, planTensor } from "./serialize-safetensors.js";

// Sharded checkpoints: `model.safetensors.index.json` plus `model-0000i-of-0000n.safetensors` shards.

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function indexError(file: string, field: string, what: string, fix: string): SafetensorsError {
  return new SafetensorsError({ file, field, what, fix, code: "CHECKPOINT_FORMAT" });
}

/** Python's `json.dumps(value, indent=2, sort_keys=True)` for objects, strings and integers. */
function pythonJson(value: unknown, indent = ""): string {
  if (typeof value === "string") {
    // ensure_ascii: everything outside printable ASCII is \uXXXX (UTF-16 units, lowercase hex).
    return JSON.stringify(value).replace(
      /[^\x20-\x7e]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    return String(value);
  }
  if (isRecord(value)) {
    const keys = Object.keys(value).sort(compareCodePoints);
    if (keys.length === 0) {
      return "{}";
    }
    const inner = `${indent}  `;
    const lines = keys.map((key) => `${inner}${pythonJson(key)}: ${pythonJson(value[key], inner)}`);
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  throw new ModelError(
    "MODEL_INPUT",
    `index metadata: cannot write ${JSON.stringify(value)}; use strings and integers`,
  );
}

/**
 * Reads `model.safetensors.index.json` in `dir` (the sharded form written by transformers'
 * `save_pretrained`) and checks that every shard it names exists; null when there is no index.
 */
export async function readShardedIndex(dir: string): Promise<ShardedIndex | null> {
  const file = join(dir, SAFETENSORS_INDEX_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") {
      return null;
    }
    throw ioError(file, "open", error, "check that the file is readable");
  }
  const fix = "the index is corrupt; download it again or save the checkpoint again";
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError({
      file,
      field: "index",
      what: `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      fix,
      code: "CHECKPOINT_FORMAT",
      cause: error,
    });
  }
  if (!isRecord(json)) {
    throw indexError(file, "index", "expected a JSON object", fix);
  }
  const metadata = json.metadata ?? {};
  if (!isRecord(metadata)) {
    throw indexError(file, "metadata", `expected an object, got ${JSON.stringify(metadata)}`, fix);
  }
  const totalSize = metadata.total_size ?? null;
  if (
    totalSize !== null &&
    !(typeof totalSize === "number" && Number.isSafeInteger(totalSize) && totalSize >= 0)
  ) {
    throw indexError(
      file,
      "metadata.total_size",
      `expected a non-negative integer, got ${JSON.stringify(totalSize)}`,
      fix,
    );
  }
  if (!isRecord(json.weight_map)) {
    throw indexError(
      file,
      "weight_map",
      `expected an object of tensor name → shard file, got ${JSON.stringify(json.weight_map)}`,
      fix,
    );
  }
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(json.weight_map)) {
    const field = `weight_map[${JSON.stringify(name)}]`;
    if (typeof shard !== "string" || shard === "" || shard === "." || shard === ".." || /[/\\]/.test(shard)) {
      throw indexError(
        file,
        field,
        `expected a shard file name in the same folder, got ${JSON.stringify(shard)}`,
        fix,
      );
    }
    weightMap.set(name, shard);
  }
  const shards = [...new Set(weightMap.values())].sort(compareCodePoints);
  for (const shard of shards) {
    if (!(await isFile(join(dir, shard)))) {
      const name = [...weightMap].find(([, value]) => value === shard)?.[0] ?? "";
      throw indexError(
        file,
        `weight_map[${JSON.stringify(name)}]`,
        `shard ${JSON.stringify(shard)} does not exist`,
        "download every shard the index lists (or save the checkpoint again)",
      );
    }
  }
  return { totalSize, metadata, weightMap, shards };
}

function shardFileName(index: number, count: number): string {
  const pad = (value: number): string => String(value).padStart(5, "0");
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

/**
 * Writes a checkpoint folder like transformers' `save_pretrained`: tensors are packed greedily, in
 * the given order, into shards of at most `maxShardBytes` of data (a bigger tensor gets a shard of
 * its own), named `model-00001-of-0000N.safetensors`, plus `model.safetensors.index.json`
 * (`{"metadata": {"total_size"}, "weight_map"}`, Python `json.dumps(indent=2, sort_keys=True)` + "\n").
 * Everything fitting in one shard gives `model.safetensors` and no index, as transformers does. Each
 * file is written atomically, the index last; stale shards, index or `model.safetensors` from an
 * earlier save are then removed, so that {@link loadCheckpointTensors} reads what was just written.
 */
export async function writeShardedSafetensors(
  dir: string,
  tensors: SafetensorsInput,
  options: WriteShardedSafetensorsOptions = {},
): Promise<WrittenCheckpoint> {
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes < 1) {
    throw new ModelError(
      "MODEL_INPUT",
      `maxShardBytes: ${maxShardBytes} is not a positive integer; pass a size in bytes`,
    );
  }
  const entries = inputEntries(tensors);
  const groups: Array<Array<[string, TensorEntry]>> = [[]];
  let shardBytes = 0;
  let totalSize = 0;
  for (const [name, entry] of entries) {
    const { byteLength } = planTensor(name, entry, options.dtype);
    let current = groups[groups.length - 1] as Array<[string, TensorEntry]>;
    if (shardBytes + byteLength > maxShardBytes && current.length > 0) {
      current = [];
      groups.push(current);
      shardBytes = 0;
    }
    current.push([name, entry]);
    shardBytes += byteLength;
    totalSize += byteLength;
  }
  const serializeOptions: SerializeSafetensorsOptions = {
    metadata: options.metadata,
    dtype: options.dtype,
    order: options.order,
  };
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw ioError(dir, "mkdir", error, "check that the folder can be created");
  }
  let written: WrittenCheckpoint;
  if (groups.length === 1) {
    await writeSafetensors(join(dir, SAFETENSORS_SINGLE_FILE), tensors, serializeOptions);
    written = { files: [SAFETENSORS_SINGLE_FILE], index: null };
  } else {
    const weightMap = new Map<string, string>();
    const files: string[] = [];
    for (const [i, group] of groups.entries()) {
      const file = shardFileName(i, groups.length);
      await writeSafetensors(join(dir, file), new Map(group), serializeOptions);
      files.push(file);
      for (const [name] of group) {
        weightMap.set(name, file);
      }
    }
    const metadata = { total_size: totalSize };
    const text = `${pythonJson({ metadata, weight_map: Object.fromEntries(weightMap) })}\n`;
    await writeFileAtomic(join(dir, SAFETENSORS_INDEX_FILE), async (handle) => {
      await writeAll(handle, new TextEncoder().encode(text), 0);
    });
    files.push(SAFETENSORS_INDEX_FILE);
    written = { files, index: { totalSize, metadata, weightMap, shards: files.slice(0, -1) } };
  }
  await removeStaleFiles(dir, written.files);
  return written;
}

async function removeStaleFiles(dir: string, keep: readonly string[]): Promise<void> {
  const stale = (await readdir(dir)).filter(
    (name) =>
      !keep.includes(name) &&
      (SHARD_FILE_PATTERN.test(name) || name === SAFETENSORS_SINGLE_FILE || name === SAFETENSORS_INDEX_FILE),
  );
  for (const name of stale) {
    await rm(join(dir, name), { force: true });
  }
}

async function missingCheckpointError(dir: string): Promise<SafetensorsError> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    return ioError(dir, "open", error, "check that the checkpoint folder exists");
  }
  const pickle = entries.find((name) => /^pytorch_model.*\.bin$/.test(name));
  return indexError(
    dir,
    SAFETENSORS_SINGLE_FILE,
    `neither ${SAFETENSORS_SINGLE_FILE} nor ${SAFETENSORS_INDEX_FILE} exists`,
    pickle === undefined
      ? "point at a folder written by save_pretrained or writeShardedSafetensors"
      : `found ${pickle}, a PyTorch pickle, which is not read; convert it in Python with transformers (model.save_pretrained(dir, safe_serialization=True))`,
  );
}

/**
 * Loads a Hugging Face checkpoint folder: `model.safetensors` if present (transformers' precedence),
 * else every shard of `model.safetensors.index.json`, merged. Every header is read (and passed to
 * `checkTensors`) before any tensor data; `beforeRead` sees each file before it is opened. Throws `SafetensorsError` with code
 * `CHECKPOINT_FORMAT` when there is neither, when a tensor is in two shards, or when the index puts
 * a tensor in a shard that lacks it.
 */
export async function loadCheckpointTensors(
  dir: string,
  options: LoadCheckpointTensorsOptions = {},
): Promise<CheckpointTensors> {
  const single = join(dir, SAFETENSORS_SINGLE_FILE);
  if (await isFile(single)) {
    await options.beforeRead?.(single);
    return { ...(await readSafetensors(single, options)), files: [single] };
  }
  if (options.beforeRead !== undefined && (await isFile(join(dir, SAFETENSORS_INDEX_FILE)))) {
    await options.beforeRead(join(dir, SAFETENSORS_INDEX_FILE));
  }
  const index = await readShardedIndex(dir);
  if (index === null) {
    throw await missingCheckpointError(dir);
  }
  const chunkBytes = chunkBytesOf(options);
  const indexFile = join(dir, SAFETENSORS_INDEX_FILE);
  const handles: FileHandle[] = [];
  const opened: Array<{ file: string; handle: FileHandle; header: SafetensorsHeader }> = [];
  try {
    const owner = new Map<string, string>();
    for (const shard of index.shards) {
      const file = join(dir, shard);
      await options.beforeRead?.(file);
      const handle = await openForReading(file);
      handles.push(handle);
      const header = await readHeader(handle, file, chunkBytes);
      opened.push({ file, handle, header });
      for (const name of header.tensors.keys()) {
        const other = owner.get(name);
        if (other !== undefined) {
          throw indexError(
            dir,
            tensorField(name),
            `is stored in both ${JSON.stringify(other)} and ${JSON.stringify(shard)}`,
            "the shards come from different saves; download the checkpoint again or delete the stale shard",
          );
        }
        owner.set(name, shard);
      }
    }
    for (const [name, shard] of index.weightMap) {
      if (owner.get(name) !== shard) {
        throw indexError(
          indexFile,
          `weight_map[${JSON.stringify(name)}]`,
          `shard ${JSON.stringify(shard)} has no tensor ${JSON.stringify(name)}${
            owner.has(name) ? ` (it is in ${JSON.stringify(owner.get(name))})` : ""
          }`,
          "the index and the shards come from different saves; download the checkpoint again",
        );
      }
    }
    if (options.checkTensors !== undefined) {
      const described = new Map<string, SafetensorsTensorInfo>();
      for (const { header } of opened) {
        for (const [name, info] of header.tensors) {
          described.set(name, info);
        }
      }
      options.checkTensors(described);
    }
    const tensors = new Map<string, TensorEntry>();
    const metadata: Record<string, string> = {};
    for (const { file, handle, header } of opened) {
      const read = await readTensors(handle, header, {
        file,
        names: options.names ?? (() => true),
        toFloat32: options.toFloat32 ?? true,
        chunkBytes,
      });
      for (const [name, entry] of read) {
        tensors.set(name, entry);
      }
      Object.assign(metadata, header.metadata);
    }
    return { tensors, metadata, files: opened.map(({ file }) => file) };
  } finally {
    for (const handle of handles) {
      await handle.close();
    }
  }
}
