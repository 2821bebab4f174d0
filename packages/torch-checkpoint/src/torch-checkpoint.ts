import { bytesSource, fileSource, type ByteSource } from "./byte-source.js";
import { isTruncatedPickle, unpickle } from "./pickle-machine.js";
import { torchFormatError } from "./torch-format-error.js";
import { torchPickleHooks, type TorchStorageType, type UnknownGlobals } from "./torch-globals.js";
import {
  readTorchTensor,
  TORCH_ITEM_BYTES,
  TorchStorage,
  TorchTensor,
  type ReadTorchTensorOptions,
  type TorchTensorData,
} from "./torch-tensor.js";
import { looksLikeZip, readZipDirectory, zipEntryDataOffset } from "./zip-reader.js";

// Two layouts of torch.save:
//  * zip (torch >= 1.6, the default): entries `<prefix>/data.pkl` (the pickle), `<prefix>/data/<key>`
//    (one raw little-endian storage each), `<prefix>/version`, optionally `<prefix>/byteorder`.
//    `<prefix>` is the saved file's name without extension (`archive` for older torch). A storage's
//    persistent id is ('storage', torch.<T>Storage, key, location, numel).
//  * legacy (`_use_new_zipfile_serialization=False`, and every file of torch < 1.6): five things back
//    to back: a pickled magic number 0x1950a86a20f9469cfc6c, the pickled protocol version 1001, a
//    pickled sys_info dict (little_endian, type sizes), the pickle of the object, the pickled list
//    of storage keys; then, for each key in that list, an int64 element count and the raw elements.
//    Persistent ids are ('storage', torch.<T>Storage, root key, location, numel, view metadata).

/** Options of {@link openTorchCheckpoint}. */
export interface OpenTorchCheckpointOptions {
  /**
   * Globals outside the allow-list: `"refuse"` (default) throws `ForbiddenGlobalError` naming the
   * global; `"skip"` keeps them as `OpaqueGlobal`/`OpaqueObject` placeholders that are never called
   * (for DeepSpeed `mp_rank_*` files that mix weights with training state). Globals of modules such
   * as `os`, `subprocess` or `builtins` are refused either way.
   */
  unknownGlobals?: UnknownGlobals;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const MAX_PICKLE_BYTES = 2 ** 30;

/**
 * An opened torch checkpoint: the unpickled object (`root`, with `TorchTensor` descriptions where
 * the tensors were) and positional reads of tensor data. Close it when done.
 */
export class TorchCheckpoint {
  constructor(
    /** Where the bytes come from. */
    readonly source: ByteSource,
    /** `zip` (torch ≥ 1.6) or `legacy`. */
    readonly format: "zip" | "legacy",
    /** The unpickled object: Maps for dicts, arrays for lists, `PickleTuple`s, `TorchTensor`s, placeholders. */
    readonly root: unknown,
  ) {}

  /** The file's path (or the name given to its bytes). */
  get file(): string {
    return this.source.name;
  }

  /**
   * Every tensor reachable through string-keyed dicts from `value` (default: the root), named by
   * their keys joined with "." — a state dict's names for a state dict.
   */
  tensors(value: unknown = this.root): Map<string, TorchTensor> {
    return findTensors(value);
  }

  /** Reads one tensor's elements (see `readTorchTensor`). */
  read(tensor: TorchTensor, options: ReadTorchTensorOptions = {}): Promise<TorchTensorData> {
    return readTorchTensor(this.source, tensor, options);
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.source.close();
  }
}

/** Tensors reachable from `value` through string-keyed dicts (cycle-safe), named by dotted keys. */
export function findTensors(value: unknown): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  const seen = new Set<unknown>();
  const pending: Array<[string, unknown]> = [["", value]];
  while (pending.length > 0) {
    const [prefix, current] = pending.pop() as [string, unknown];
    if (current instanceof TorchTensor) {
      out.set(prefix, current);
    } else if (current instanceof Map && !seen.has(current)) {
      seen.add(current);
      const entries = [...current].filter(([key]) => typeof key === "string").reverse();
      for (const [key, item] of entries) {
        pending.push([prefix === "" ? (key as string) : `${prefix}.${key as string}`, item]);
      }
    }
  }
  return out;
}

/** Opens a torch checkpoint file (zip or legacy format) and unpickles it safely. */
export async function openTorchCheckpoint(
  path: string,
  options: OpenTorchCheckpointOptions = {},
): Promise<TorchCheckpoint> {
  const source = await fileSource(path);
  try {
    return await openTorchCheckpointSource(source, options);
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** Like {@link openTorchCheckpoint}, over bytes in memory. */
export function parseTorchCheckpoint(
  bytes: Uint8Array,
  options: OpenTorchCheckpointOptions & { name?: string } = {},
): Promise<TorchCheckpoint> {
  return openTorchCheckpointSource(bytesSource(bytes, options.name), options);
}

/** Like {@link openTorchCheckpoint}, over any {@link ByteSource}. */
export async function openTorchCheckpointSource(
  source: ByteSource,
  options: OpenTorchCheckpointOptions = {},
): Promise<TorchCheckpoint> {
  const unknownGlobals = options.unknownGlobals ?? "refuse";
  const head = await source.read(0, Math.min(source.size, 512));
  if (looksLikeZip(head)) {
    return openZip(source, unknownGlobals);
  }
  if (head[0] === 0x80) {
    return openLegacy(source, unknownGlobals);
  }
  if (head.length >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar") {
    throw torchFormatError(
      source.name,
      "header",
      "this is the tar format of torch < 0.4",
      "load and re-save it with a recent torch (torch.save writes the zip format)",
    );
  }
  throw torchFormatError(source.name, "header", "neither a zip archive nor a pickle: not a torch.save file");
}

async function openZip(source: ByteSource, unknownGlobals: UnknownGlobals): Promise<TorchCheckpoint> {
  const file = source.name;
  const entries = await readZipDirectory(source);
  const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw torchFormatError(
      file,
      "data.pkl",
      pickles.length === 0
        ? "the archive has no <name>/data.pkl entry"
        : `the archive has ${pickles.length} data.pkl entries`,
    );
  }
  const prefix = (pickles[0] as string).slice(0, -"data.pkl".length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder !== undefined) {
    const order = new TextDecoder().decode(
      await source.read(await zipEntryDataOffset(source, byteorder), Math.min(byteorder.size, 16)),
    );
    if (order.trim() !== "little") {
      throw torchFormatError(
        file,
        `${prefix}byteorder`,
        `the storages are ${order.trim()}-endian`,
        "re-save the checkpoint on a little-endian machine",
      );
    }
  }
  const pickleEntry = entries.get(pickles[0] as string);
  if (pickleEntry === undefined || pickleEntry.size > MAX_PICKLE_BYTES) {
    throw torchFormatError(file, pickles[0] as string, "the pickle is larger than 1 GiB");
  }
  const pickle = await source.read(await zipEntryDataOffset(source, pickleEntry), pickleEntry.size);
  const storages = new Map<string, TorchStorage>();
  const hooks = torchPickleHooks({
    file,
    unknownGlobals,
    storage: (key, type, numel, location, offset) =>
      storageFor(storages, file, key, type, numel, location, offset),
  });
  const { value } = unpickle(pickle, { ...hooks, file: `${file} (${pickles[0]})` });
  for (const storage of storages.values()) {
    const name = `${prefix}data/${storage.key}`;
    const entry = entries.get(name);
    if (entry === undefined) {
      throw torchFormatError(file, name, `storage ${storage.key} is referenced by the pickle but missing`);
    }
    const bytes = storage.numel * TORCH_ITEM_BYTES[storage.dtype];
    if (entry.size < bytes) {
      throw torchFormatError(
        file,
        name,
        `holds ${entry.size} bytes, but its ${storage.numel} ${storage.dtype} elements need ${bytes}`,
      );
    }
    storage.fileOffset = await zipEntryDataOffset(source, entry);
  }
  return new TorchCheckpoint(source, "zip", value);
}

function storageFor(
  storages: Map<string, TorchStorage>,
  file: string,
  key: string,
  type: TorchStorageType,
  numel: number | null,
  location: string,
  offset: number,
): TorchStorage {
  const existing = storages.get(key);
  if (existing !== undefined) {
    if (existing.dtype !== type.dtype || (numel !== null && existing.numel !== numel)) {
      throw torchFormatError(
        file,
        `pickle offset ${offset}`,
        `storage ${key} is named with two different types or sizes`,
      );
    }
    return existing;
  }
  if (numel === null) {
    throw torchFormatError(file, `pickle offset ${offset}`, `storage ${key} has no size`);
  }
  const storage = new TorchStorage(key, type.dtype, numel, location);
  storages.set(key, storage);
  return storage;
}

async function openLegacy(source: ByteSource, unknownGlobals: UnknownGlobals): Promise<TorchCheckpoint> {
  const file = source.name;
  // The pickles' total length is unknown until they are parsed: parse a prefix, doubling it when a
  // pickle runs past its end.
  let length = Math.min(source.size, 1 << 16);
  for (;;) {
    const bytes = await source.read(0, length);
    try {
      return await parseLegacy(source, bytes, unknownGlobals);
    } catch (error) {
      if (!isTruncatedPickle(error) || length === source.size) {
        throw error;
      }
      if (length >= MAX_PICKLE_BYTES) {
        throw torchFormatError(file, "pickle", "the pickles take more than 1 GiB");
      }
      length = Math.min(source.size, length * 2);
    }
  }
}

async function parseLegacy(
  source: ByteSource,
  bytes: Uint8Array,
  unknownGlobals: UnknownGlobals,
): Promise<TorchCheckpoint> {
  const file = source.name;
  const magic = unpickle(bytes, { file });
  if (magic.value !== LEGACY_MAGIC && magic.value !== Number(LEGACY_MAGIC)) {
    throw torchFormatError(
      file,
      "magic number",
      "the first pickle is not torch's magic number: not a torch.save file",
    );
  }
  const protocol = unpickle(bytes, { file, start: magic.end });
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw torchFormatError(
      file,
      "protocol version",
      `expected ${LEGACY_PROTOCOL}, got ${String(protocol.value)}`,
    );
  }
  const sysInfo = unpickle(bytes, { file, start: protocol.end });
  if (sysInfo.value instanceof Map && sysInfo.value.get("little_endian") === false) {
    throw torchFormatError(
      file,
      "sys_info",
      "the storages are big-endian",
      "re-save the checkpoint on a little-endian machine",
    );
  }
  const storages = new Map<string, TorchStorage>();
  const hooks = torchPickleHooks({
    file,
    unknownGlobals,
    storage: (key, type, numel, location, offset) =>
      storageFor(storages, file, key, type, numel, location, offset),
  });
  const main = unpickle(bytes, { ...hooks, file, start: sysInfo.end });
  const keys = unpickle(bytes, { file, start: main.end });
  if (!Array.isArray(keys.value) || !keys.value.every((key) => typeof key === "string")) {
    throw torchFormatError(file, `offset ${main.end}`, "the storage key list is not a list of strings");
  }
  let offset = keys.end;
  for (const key of keys.value as string[]) {
    const storage = storages.get(key);
    if (storage === undefined) {
      throw torchFormatError(
        file,
        `storage ${key}`,
        "is listed but no tensor uses it, so its element type is unknown",
      );
    }
    const header = await source.read(offset, 8);
    const count = new DataView(header.buffer, header.byteOffset, 8).getBigInt64(0, true);
    const bytesNeeded = BigInt(storage.numel * TORCH_ITEM_BYTES[storage.dtype]);
    if (
      count < BigInt(storage.numel) ||
      BigInt(offset + 8) + count * BigInt(TORCH_ITEM_BYTES[storage.dtype]) > BigInt(source.size)
    ) {
      throw torchFormatError(
        file,
        `storage ${key} at offset ${offset}`,
        `holds ${count} elements (${bytesNeeded} bytes needed) or runs past the end of the file`,
      );
    }
    storage.fileOffset = offset + 8;
    offset += 8 + Number(count) * TORCH_ITEM_BYTES[storage.dtype];
  }
  for (const storage of storages.values()) {
    if (storage.fileOffset < 0) {
      throw torchFormatError(
        file,
        `storage ${storage.key}`,
        "is used by a tensor but missing from the storage list",
      );
    }
  }
  return new TorchCheckpoint(source, "legacy", main.value);
}

/** Options of {@link readTorchStateDict}. */
export interface ReadTorchStateDictOptions extends OpenTorchCheckpointOptions, ReadTorchTensorOptions {
  /** Keep only tensors whose name passes (default: all); the others are never read. */
  names?: (name: string) => boolean;
}

/**
 * Reads a state-dict file (`pytorch_model.bin`): every tensor reachable through string-keyed dicts,
 * by dotted name, in file order. Only the selected tensors' bytes are read.
 */
export async function readTorchStateDict(
  path: string,
  options: ReadTorchStateDictOptions = {},
): Promise<Map<string, TorchTensorData>> {
  const checkpoint = await openTorchCheckpoint(path, options);
  try {
    const out = new Map<string, TorchTensorData>();
    for (const [name, tensor] of checkpoint.tensors()) {
      if (options.names === undefined || options.names(name)) {
        out.set(name, await checkpoint.read(tensor, options));
      }
    }
    return out;
  } finally {
    await checkpoint.close();
  }
}
