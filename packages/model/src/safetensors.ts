import { randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readFile, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { getFloat16, setFloat16 } from "@petamoriken/float16";
import { renameDurable } from "@pythia/core";
import { ModelError, SafetensorsError } from "./model-errors.js";

// The safetensors format (huggingface/safetensors): bytes 0..8 hold N, a little-endian uint64; bytes
// 8..8+N hold a UTF-8 JSON object
//   {"__metadata__":{"format":"pt"},"<name>":{"dtype":"F32","shape":[..],"data_offsets":[begin,end]},...}
// right-padded with spaces so that 8 + N is a multiple of 8; then the data section, where each tensor
// is `end - begin` bytes of little-endian, row-major elements at `8 + N + begin`. `__metadata__` is
// optional and maps strings to strings. The Rust reader caps N at 100,000,000 bytes.
//
// Writing: the header JSON is compact (no spaces), `__metadata__` first, then the tensors in code-point
// order of their names, and their data in the same order, back to back. That is what every fixture in
// test/fixtures was written with (also the mixed-dtype `logits.safetensors`, whose I64 `input_ids`
// sits between F32 tensors). The Rust library (`safetensors` ≥ 0.3, used by Python's `save_file`)
// instead orders tensors by descending dtype, then name, which keeps every tensor aligned to its
// element size; `order: "dtype"` reproduces that. For single-dtype files, such as HF checkpoints, the
// two orders are the same bytes.

/** Element types of the safetensors format that this module reads and writes. */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

/** Bytes per element of each dtype. */
export const SAFETENSORS_ITEM_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The largest header the Rust `safetensors` reader accepts (`MAX_HEADER_SIZE`), in bytes. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** File name of a single-file Hugging Face checkpoint. */
export const SAFETENSORS_SINGLE_FILE = "model.safetensors";

/** File name of the index of a sharded Hugging Face checkpoint. */
export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";

/**
 * Tensor elements. Float tensors read with `toFloat32` (the default) are `Float32Array`s whatever
 * their stored dtype; with `toFloat32: false`, F16 and BF16 come back as their raw bits in a
 * `Uint16Array` and F64 as a `Float64Array`. I64 is a `BigInt64Array`, U8 and BOOL are `Uint8Array`s.
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/** One tensor: its stored (or to-be-stored) dtype, its shape and its row-major elements. */
export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

/** One tensor as a safetensors header describes it (`dataOffsets` are relative to the data section). */
export interface SafetensorsTensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The header's `data_offsets`: first byte and one past the last byte. */
  dataOffsets: [begin: number, end: number];
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** N: the header's length in bytes (padding included). */
  headerLength: number;
  /** File offset of the data section (8 + N). */
  dataStart: number;
  /** Length of the data section in bytes (file size − 8 − N). */
  dataLength: number;
  /** The tensors, in header order. */
  tensors: Map<string, SafetensorsTensorInfo>;
  /** `__metadata__`, or `{}` when absent. */
  metadata: Record<string, string>;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** Keep only tensors whose name passes (default: all); the others are never read from disk. */
  names?: (name: string) => boolean;
  /** Decode F16, BF16 and F64 to `Float32Array` (default true); see {@link TensorData} otherwise. */
  toFloat32?: boolean;
  /** Largest single read in bytes (default 1 GiB); bigger tensors are read in pieces. */
  readChunkBytes?: number;
}

/** What {@link readSafetensors} returns. */
export interface SafetensorsContents {
  /** The selected tensors, in header order. */
  tensors: Map<string, TensorEntry>;
  /** `__metadata__`, or `{}` when absent. */
  metadata: Record<string, string>;
}

/** Tensors to serialize: a map or a record from name to {@link TensorEntry}. */
export type SafetensorsInput = ReadonlyMap<string, TensorEntry> | Readonly<Record<string, TensorEntry>>;

/** Options of {@link serializeSafetensors} and {@link writeSafetensors}. */
export interface SerializeSafetensorsOptions {
  /** `__metadata__` (string → string), written first in the header; omitted when absent or empty. */
  metadata?: Readonly<Record<string, string>>;
  /**
   * Store every float tensor (F32, F16, BF16, F64) as this dtype, converting on write: F16 rounds to
   * nearest even, BF16 rounds float32 to nearest even like torch (NaN becomes 0x7FC0). Default: each
   * tensor's own `dtype`. Integer tensors are never converted.
   */
  dtype?: "F32" | "F16" | "BF16";
  /**
   * Data and header order: `"name"` (default; code-point order of names, as in every fixture) or
   * `"dtype"` (descending dtype, then name, as the Rust `safetensors` library writes).
   */
  order?: "name" | "dtype";
}

/** A sharded checkpoint's index (`model.safetensors.index.json`). */
export interface ShardedIndex {
  /** `metadata.total_size`: bytes of tensor data in all shards, or null when absent. */
  totalSize: number | null;
  /** The index's whole `metadata` object. */
  metadata: Record<string, unknown>;
  /** `weight_map`: tensor name → shard file name (in the checkpoint folder). */
  weightMap: Map<string, string>;
  /** The distinct shard file names, sorted. */
  shards: string[];
}

/** Options of {@link writeShardedSafetensors}. */
export interface WriteShardedSafetensorsOptions extends SerializeSafetensorsOptions {
  /** Largest shard, in bytes of tensor data (default 5,000,000,000, transformers' "5GB"). */
  maxShardBytes?: number;
}

/** What {@link writeShardedSafetensors} wrote. */
export interface WrittenCheckpoint {
  /** File names written in the folder, the index (if any) last. */
  files: string[];
  /** The index, or null when everything fit in one `model.safetensors`. */
  index: ShardedIndex | null;
}

/** What {@link loadCheckpointTensors} returns. */
export interface CheckpointTensors extends SafetensorsContents {
  /** The safetensors files read, as paths. */
  files: string[];
}

const DTYPES = Object.keys(SAFETENSORS_ITEM_BYTES) as SafetensorsDtype[];
const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(["F32", "F16", "BF16", "F64"]);
/** Order of the Rust `Dtype` enum ("increasing alignment order"); its writer sorts descending. */
const RUST_DTYPE_RANK: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 3,
  F16: 4,
  BF16: 5,
  I32: 6,
  F32: 7,
  F64: 8,
  I64: 9,
};
const DEFAULT_CHUNK_BYTES = 2 ** 30;
const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;
const SHARD_FILE_PATTERN = /^model-\d{5}-of-\d{5}\.safetensors$/;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const TRUNCATED_FIX = "the file is truncated or is not a safetensors file; download or save it again";
const CORRUPT_FIX = "the header is corrupt or was written by a broken writer; save the file again";

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && (DTYPES as string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function tensorField(name: string, key?: string): string {
  return key === undefined ? `tensor ${JSON.stringify(name)}` : `tensor ${JSON.stringify(name)} ${key}`;
}

function formatError(file: string, field: string, what: string, fix: string): SafetensorsError {
  return new SafetensorsError({ file, field, what, fix });
}

/** Compares strings by Unicode code point (Python's and Rust's string order), not by UTF-16 unit. */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (0xD800–0xDFFF) encode code points above every BMP unit: move them past 0xFFFF.
      const rank = (unit: number): number =>
        unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;
      return rank(x) - rank(y);
    }
  }
  return a.length - b.length;
}

/** Product of a shape, or null when it is not a safe integer. */
function elementCount(shape: readonly number[]): number | null {
  let count = 1;
  for (const dim of shape) {
    count *= dim;
  }
  return Number.isSafeInteger(count) ? count : null;
}

function validShape(shape: unknown): shape is number[] {
  return (
    Array.isArray(shape) &&
    shape.every((dim) => typeof dim === "number" && Number.isSafeInteger(dim) && dim >= 0)
  );
}

// ---------------------------------------------------------------------------------------------------
// Header parsing

/** Reads and checks N (bytes 0..8) against the limit and the file size. */
function headerLengthOf(bytes: Uint8Array, file: string, fileSize: number): number {
  if (fileSize < 8 || bytes.length < 8) {
    throw formatError(
      file,
      "header length",
      `the file has ${Math.min(fileSize, bytes.length)} bytes, fewer than the 8 that hold the header length`,
      TRUNCATED_FIX,
    );
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw formatError(
      file,
      "header length",
      `header length ${length} is over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`,
      "this is not a safetensors file (or its first 8 bytes are corrupt); check the path or download it again",
    );
  }
  const headerLength = Number(length);
  if (8 + headerLength > fileSize) {
    throw formatError(
      file,
      "header length",
      `header length ${headerLength} runs past the end of the file (${fileSize} bytes)`,
      TRUNCATED_FIX,
    );
  }
  return headerLength;
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  // The Rust reader takes `"__metadata__": null` as no metadata.
  if (value === undefined || value === null) {
    return {};
  }
  if (!isRecord(value)) {
    throw formatError(
      file,
      "__metadata__",
      `expected an object of strings, got ${JSON.stringify(value)}`,
      "store metadata as string → string pairs",
    );
  }
  const metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") {
      throw formatError(
        file,
        `__metadata__[${JSON.stringify(key)}]`,
        `expected a string, got ${JSON.stringify(entry)}`,
        "store metadata as string → string pairs (serialize other values to strings)",
      );
    }
    metadata[key] = entry;
  }
  return metadata;
}

function parseTensorInfo(
  name: string,
  value: unknown,
  file: string,
  dataLength: number,
): SafetensorsTensorInfo {
  if (!isRecord(value)) {
    throw formatError(
      file,
      tensorField(name),
      `expected an object {"dtype", "shape", "data_offsets"}, got ${JSON.stringify(value)}`,
      CORRUPT_FIX,
    );
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isDtype(dtype)) {
    throw formatError(
      file,
      tensorField(name, "dtype"),
      `unknown dtype ${JSON.stringify(dtype)} (known: ${DTYPES.join(", ")})`,
      "convert the tensor to one of the known dtypes before saving",
    );
  }
  if (!validShape(shape)) {
    throw formatError(
      file,
      tensorField(name, "shape"),
      `expected an array of non-negative integers, got ${JSON.stringify(shape)}`,
      CORRUPT_FIX,
    );
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0)
  ) {
    throw formatError(
      file,
      tensorField(name, "data_offsets"),
      `expected [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`,
      CORRUPT_FIX,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    throw formatError(
      file,
      tensorField(name, "data_offsets"),
      `[${begin}, ${end}] is not a range inside the ${dataLength}-byte data section`,
      end > dataLength ? TRUNCATED_FIX : CORRUPT_FIX,
    );
  }
  const count = elementCount(shape);
  const expected = count === null ? null : count * SAFETENSORS_ITEM_BYTES[dtype];
  if (expected === null || !Number.isSafeInteger(expected) || end - begin !== expected) {
    throw formatError(
      file,
      tensorField(name, "data_offsets"),
      `[${begin}, ${end}] holds ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${
        expected ?? "more than 2^53"
      }`,
      CORRUPT_FIX,
    );
  }
  return { dtype, shape: [...shape], dataOffsets: [begin, end] };
}

function checkNoOverlap(tensors: Map<string, SafetensorsTensorInfo>, file: string): void {
  const ranges = [...tensors].sort(
    ([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1],
  );
  let previous: [string, SafetensorsTensorInfo] | undefined;
  for (const current of ranges) {
    const [name, info] = current;
    if (previous !== undefined && info.dataOffsets[0] < previous[1].dataOffsets[1]) {
      throw formatError(
        file,
        tensorField(name, "data_offsets"),
        `[${info.dataOffsets.join(", ")}] overlaps tensor ${JSON.stringify(previous[0])} at [${previous[1].dataOffsets.join(", ")}]`,
        CORRUPT_FIX,
      );
    }
    if (previous === undefined || info.dataOffsets[1] > previous[1].dataOffsets[1]) {
      previous = current;
    }
  }
}

/**
 * Parses and validates a safetensors header. `bytes` is the file, or at least its first 8 + N bytes
 * with `fileSize` the whole file's size (default `bytes.length`). Throws `SafetensorsError` naming
 * `file`, the field and the fix.
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  file: string,
  options: { fileSize?: number } = {},
): SafetensorsHeader {
  const fileSize = options.fileSize ?? bytes.length;
  const headerLength = headerLengthOf(bytes, file, fileSize);
  if (bytes.length < 8 + headerLength) {
    throw new ModelError(
      "MODEL_INPUT",
      `${file}: header: only ${bytes.length} of its first ${8 + headerLength} bytes were given; pass at least the header`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      bytes.subarray(8, 8 + headerLength),
    );
  } catch (error) {
    throw new SafetensorsError({
      file,
      field: "header",
      what: "the header is not valid UTF-8",
      fix: TRUNCATED_FIX,
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError({
      file,
      field: "header",
      what: `the header is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      fix: TRUNCATED_FIX,
      cause: error,
    });
  }
  if (!isRecord(json)) {
    throw formatError(
      file,
      "header",
      `expected a JSON object, got ${JSON.stringify(json).slice(0, 40)}`,
      CORRUPT_FIX,
    );
  }
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, SafetensorsTensorInfo>();
  for (const [name, value] of Object.entries(json)) {
    if (name !== "__metadata__") {
      tensors.set(name, parseTensorInfo(name, value, file, dataLength));
    }
  }
  checkNoOverlap(tensors, file);
  return { headerLength, dataStart, dataLength, tensors, metadata: parseMetadata(json.__metadata__, file) };
}

// ---------------------------------------------------------------------------------------------------
// Element conversion

let float16Table: Float32Array | undefined;

/** Float32 value of every float16 bit pattern (built once, with `getFloat16`). */
function float16Values(): Float32Array {
  if (float16Table === undefined) {
    const bits = new DataView(new ArrayBuffer(2));
    float16Table = new Float32Array(65536);
    for (let pattern = 0; pattern < 65536; pattern++) {
      bits.setUint16(0, pattern, true);
      float16Table[pattern] = getFloat16(bits, 0, true);
    }
  }
  return float16Table;
}

function decodeFloat16(bits: Uint16Array): Float32Array {
  const table = float16Values();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    out[i] = table[bits[i] as number] as number;
  }
  return out;
}

function decodeBfloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    outBits[i] = (bits[i] as number) << 16;
  }
  return out;
}

/**
 * Float → float16 bits, round to nearest even, overflow to ±∞, NaN → sign | 0x7E00 (torch's
 * `fp16_ieee_from_fp32_value`). Float32 input goes through the bits (about 100× faster than
 * `setFloat16`); float64 input uses `setFloat16`, which rounds from the double directly.
 */
function encodeFloat16(values: Float32Array | Float64Array): Uint16Array {
  const out = new Uint16Array(values.length);
  if (values instanceof Float64Array) {
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) {
      setFloat16(view, 2 * i, values[i] as number, LITTLE_ENDIAN);
    }
    return out;
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const value = bits[i] as number;
    const magnitude = value & 0x7fffffff;
    let half: number;
    if (magnitude >= 0x47800000) {
      // |x| ≥ 65536, ±∞ or NaN.
      half = magnitude > 0x7f800000 ? 0x7e00 : 0x7c00;
    } else if (magnitude >= 0x38800000) {
      // A normal half: exponent rebiased from 127 to 15, 10 mantissa bits kept, the other 13 rounded
      // (a carry moves into the exponent, up to 0x7C00 = ∞ above 65504).
      const rest = magnitude & 0x1fff;
      half = (magnitude - 0x38000000) >>> 13;
      if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) {
        half += 1;
      }
    } else {
      // Below 2^-14: a subnormal half (or zero) counting units of 2^-24, exact in float64.
      const scaled = Math.abs(values[i] as number) * 16777216;
      half = Math.floor(scaled);
      const rest = scaled - half;
      if (rest > 0.5 || (rest === 0.5 && (half & 1) === 1)) {
        half += 1;
      }
    }
    out[i] = ((value >>> 16) & 0x8000) | half;
  }
  return out;
}

/** Float32 → bfloat16 bits, round to nearest even; NaN → 0x7FC0 (torch's `round_to_nearest_even`). */
function encodeBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = bits[i] as number;
    out[i] =
      (value & 0x7fffffff) > 0x7f800000
        ? 0x7fc0
        : Math.floor((value + 0x7fff + ((value >>> 16) & 1)) / 65536);
  }
  return out;
}

/** Reverses the bytes of each `itemBytes`-wide element in place (for big-endian hosts). */
function swapBytes(bytes: Uint8Array, itemBytes: number): void {
  if (itemBytes > 1) {
    for (let start = 0; start < bytes.length; start += itemBytes) {
      bytes.subarray(start, start + itemBytes).reverse();
    }
  }
}

/** Little-endian bytes of a typed array (a view when the host is little-endian). */
function littleEndianBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) {
    return bytes;
  }
  const copy = bytes.slice();
  swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

/** Turns a tensor's bytes (in a buffer of their own, hence aligned) into its typed array. */
function decodeTensor(dtype: SafetensorsDtype, bytes: Uint8Array, toFloat32: boolean): TensorData {
  if (!LITTLE_ENDIAN) {
    swapBytes(bytes, SAFETENSORS_ITEM_BYTES[dtype]);
  }
  const { buffer, byteOffset } = bytes;
  const count = bytes.length / SAFETENSORS_ITEM_BYTES[dtype];
  switch (dtype) {
    case "F32":
      return new Float32Array(buffer, byteOffset, count);
    case "F64": {
      const values = new Float64Array(buffer, byteOffset, count);
      return toFloat32 ? Float32Array.from(values) : values;
    }
    case "F16": {
      const bits = new Uint16Array(buffer, byteOffset, count);
      return toFloat32 ? decodeFloat16(bits) : bits;
    }
    case "BF16": {
      const bits = new Uint16Array(buffer, byteOffset, count);
      return toFloat32 ? decodeBfloat16(bits) : bits;
    }
    case "I64":
      return new BigInt64Array(buffer, byteOffset, count);
    case "I32":
      return new Int32Array(buffer, byteOffset, count);
    case "I16":
      return new Int16Array(buffer, byteOffset, count);
    case "I8":
      return new Int8Array(buffer, byteOffset, count);
    case "U8":
    case "BOOL":
      return bytes;
  }
}

function inputError(name: string, what: string, fix: string): ModelError {
  return new ModelError("MODEL_INPUT", `${tensorField(name)}: ${what}; ${fix}`);
}

/** Float values of a float tensor's data (raw F16/BF16 bits are decoded per the entry's dtype). */
function floatValues(name: string, entry: TensorEntry): Float32Array | Float64Array {
  const { data, dtype } = entry;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    return data;
  }
  if (data instanceof Uint16Array && dtype === "F16") {
    return decodeFloat16(data);
  }
  if (data instanceof Uint16Array && dtype === "BF16") {
    return decodeBfloat16(data);
  }
  throw inputError(
    name,
    `${dtype} data must be a Float32Array or Float64Array (or raw bits in a Uint16Array for F16/BF16), got ${data.constructor.name}`,
    "pass float data for float dtypes",
  );
}

/** Little-endian bytes of `entry` stored as `target`. */
function encodeTensor(name: string, entry: TensorEntry, target: SafetensorsDtype): Uint8Array {
  const { data } = entry;
  switch (target) {
    case "F32": {
      const values = floatValues(name, entry);
      return littleEndianBytes(values instanceof Float32Array ? values : Float32Array.from(values));
    }
    case "F64": {
      const values = floatValues(name, entry);
      return littleEndianBytes(values instanceof Float64Array ? values : Float64Array.from(values));
    }
    case "F16":
      return littleEndianBytes(
        data instanceof Uint16Array && entry.dtype === "F16" ? data : encodeFloat16(floatValues(name, entry)),
      );
    case "BF16": {
      if (data instanceof Uint16Array && entry.dtype === "BF16") {
        return littleEndianBytes(data);
      }
      const values = floatValues(name, entry);
      return littleEndianBytes(
        encodeBfloat16(values instanceof Float32Array ? values : Float32Array.from(values)),
      );
    }
    default: {
      const expected = {
        I64: BigInt64Array,
        I32: Int32Array,
        I16: Int16Array,
        I8: Int8Array,
        U8: Uint8Array,
        BOOL: Uint8Array,
      }[target];
      if (!(data instanceof expected)) {
        throw inputError(
          name,
          `${target} data must be a ${expected.name}, got ${data.constructor.name}`,
          `pass a ${expected.name} (integer tensors are stored as they are)`,
        );
      }
      return littleEndianBytes(data);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Serialization

interface PlannedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  byteLength: number;
  encode(): Uint8Array;
}

interface SafetensorsPlan {
  /** The 8 length bytes and the padded header. */
  header: Uint8Array;
  /** The tensors, in data order. */
  tensors: PlannedTensor[];
  /** Size of the whole file. */
  byteLength: number;
}

function inputEntries(tensors: SafetensorsInput): Array<[string, TensorEntry]> {
  return tensors instanceof Map
    ? [...(tensors as ReadonlyMap<string, TensorEntry>)]
    : Object.entries(tensors as Readonly<Record<string, TensorEntry>>);
}

/** Checks one input tensor and works out how it will be stored (data is encoded later, on demand). */
function planTensor(
  name: string,
  entry: TensorEntry,
  dtype: SerializeSafetensorsOptions["dtype"],
): PlannedTensor {
  if (name === "__metadata__") {
    throw inputError(name, "the name is reserved for the header's metadata", "rename the tensor");
  }
  if (!isDtype(entry.dtype)) {
    throw inputError(name, `unknown dtype ${JSON.stringify(entry.dtype)}`, `use one of ${DTYPES.join(", ")}`);
  }
  if (!validShape(entry.shape)) {
    throw inputError(
      name,
      `shape ${JSON.stringify(entry.shape)} is not an array of non-negative integers`,
      "fix the shape",
    );
  }
  const count = elementCount(entry.shape);
  if (count !== entry.data.length) {
    throw inputError(
      name,
      `data has ${entry.data.length} elements but shape ${JSON.stringify(entry.shape)} needs ${count ?? "over 2^53"}`,
      "pass data with product(shape) elements",
    );
  }
  const target = dtype !== undefined && FLOAT_DTYPES.has(entry.dtype) ? dtype : entry.dtype;
  return {
    name,
    dtype: target,
    shape: entry.shape,
    byteLength: count * SAFETENSORS_ITEM_BYTES[target],
    encode: () => encodeTensor(name, entry, target),
  };
}

function planSafetensors(tensors: SafetensorsInput, options: SerializeSafetensorsOptions): SafetensorsPlan {
  const planned = inputEntries(tensors).map(([name, entry]) => planTensor(name, entry, options.dtype));
  const byName = (a: PlannedTensor, b: PlannedTensor): number => compareCodePoints(a.name, b.name);
  planned.sort(
    options.order === "dtype"
      ? (a, b) => RUST_DTYPE_RANK[b.dtype] - RUST_DTYPE_RANK[a.dtype] || byName(a, b)
      : byName,
  );
  const parts: string[] = [];
  const metadata = options.metadata ?? {};
  if (Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new ModelError(
          "MODEL_INPUT",
          `metadata ${JSON.stringify(key)}: expected a string, got ${typeof value}; safetensors metadata maps strings to strings`,
        );
      }
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const tensor of planned) {
    const end = offset + tensor.byteLength;
    parts.push(
      `${JSON.stringify(tensor.name)}:{"dtype":"${tensor.dtype}","shape":[${tensor.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > SAFETENSORS_MAX_HEADER_BYTES) {
    throw new ModelError(
      "MODEL_INPUT",
      `the safetensors header would be ${headerLength} bytes, over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit readers accept; write fewer tensors per file (shard the checkpoint)`,
    );
  }
  const header = new Uint8Array(8 + headerLength).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(headerLength), true);
  header.set(json, 8);
  return { header, tensors: planned, byteLength: header.length + offset };
}

/**
 * Serializes tensors into safetensors bytes: compact JSON header with `__metadata__` first and the
 * tensors in name order (see `order`), padded with spaces to an 8-byte boundary, then the data in
 * header order. Reading a file and serializing what was read gives back the same bytes.
 */
export function serializeSafetensors(
  tensors: SafetensorsInput,
  options: SerializeSafetensorsOptions = {},
): Uint8Array {
  const plan = planSafetensors(tensors, options);
  const out = new Uint8Array(plan.byteLength);
  out.set(plan.header, 0);
  let position = plan.header.length;
  for (const tensor of plan.tensors) {
    out.set(tensor.encode(), position);
    position += tensor.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Files

function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error);
}

function ioError(file: string, field: string, error: unknown, fix: string): SafetensorsError {
  return new SafetensorsError({
    file,
    field,
    what: `failed (${errorCode(error)})`,
    fix,
    code: "IO",
    cause: error,
  });
}

async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (error) {
    throw ioError(path, "open", error, "check that the file exists and is readable");
  }
}

async function readExactly(
  handle: FileHandle,
  into: Uint8Array,
  position: number,
  params: { file: string; field: string; chunkBytes: number },
): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const length = Math.min(params.chunkBytes, into.length - done);
    const { bytesRead } = await handle.read(into, done, length, position + done);
    if (bytesRead === 0) {
      throw formatError(
        params.file,
        params.field,
        `the file ended at byte ${position + done} while ${into.length} bytes were expected from byte ${position}`,
        TRUNCATED_FIX,
      );
    }
    done += bytesRead;
  }
}

/** Reads the header of an open file (positional reads: 8 bytes, then N). */
async function readHeader(handle: FileHandle, file: string, chunkBytes: number): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const prefix = new Uint8Array(Math.min(8, size));
  await readExactly(handle, prefix, 0, { file, field: "header length", chunkBytes });
  const headerLength = headerLengthOf(prefix, file, size);
  const bytes = new Uint8Array(8 + headerLength);
  bytes.set(prefix, 0);
  await readExactly(handle, bytes.subarray(8), 8, { file, field: "header", chunkBytes });
  return parseSafetensorsHeader(bytes, file, { fileSize: size });
}

async function readTensors(
  handle: FileHandle,
  header: SafetensorsHeader,
  params: { file: string; names: (name: string) => boolean; toFloat32: boolean; chunkBytes: number },
): Promise<Map<string, TensorEntry>> {
  const tensors = new Map<string, TensorEntry>();
  for (const [name, info] of header.tensors) {
    if (params.names(name)) {
      const [begin, end] = info.dataOffsets;
      // A fresh buffer per tensor: aligned for any typed array, whatever the file offset.
      const bytes = new Uint8Array(end - begin);
      await readExactly(handle, bytes, header.dataStart + begin, {
        file: params.file,
        field: tensorField(name, "data"),
        chunkBytes: params.chunkBytes,
      });
      tensors.set(name, {
        dtype: info.dtype,
        shape: info.shape,
        data: decodeTensor(info.dtype, bytes, params.toFloat32),
      });
    }
  }
  return tensors;
}

function chunkBytesOf(options: ReadSafetensorsOptions): number {
  const chunkBytes = options.readChunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > 2 ** 31 - 1) {
    throw new ModelError(
      "MODEL_INPUT",
      `readChunkBytes: ${chunkBytes} is not an integer in [1, 2^31 − 1]; leave it at the default (1 GiB)`,
    );
  }
  return chunkBytes;
}

/**
 * Reads a safetensors file: the header first, then only the selected tensors' byte ranges, with
 * positional reads (so files of any size work). Floats are decoded to `Float32Array` unless
 * `toFloat32` is false.
 *
 * @example
 * const { tensors } = await readSafetensors("model.safetensors", { names: (name) => name.endsWith(".bias") });
 */
export async function readSafetensors(
  path: string,
  options: ReadSafetensorsOptions = {},
): Promise<SafetensorsContents> {
  const chunkBytes = chunkBytesOf(options);
  const handle = await openForReading(path);
  try {
    const header = await readHeader(handle, path, chunkBytes);
    const tensors = await readTensors(handle, header, {
      file: path,
      names: options.names ?? (() => true),
      toFloat32: options.toFloat32 ?? true,
      chunkBytes,
    });
    return { tensors, metadata: header.metadata };
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const length = Math.min(DEFAULT_CHUNK_BYTES, bytes.length - done);
    const { bytesWritten } = await handle.write(bytes, done, length, position + done);
    done += bytesWritten;
  }
  return position + done;
}

/** Writes a file through a temporary sibling (same folder) renamed onto `path`: never half-written. */
async function writeFileAtomic(path: string, fill: (handle: FileHandle) => Promise<void>): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, "wx");
    await fill(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    renameDurable(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true });
    if (ModelError.isInstance(error)) {
      throw error;
    }
    throw ioError(path, "write", error, "check that the folder exists, is writable and has free space");
  }
}

/**
 * Writes tensors as a safetensors file (same bytes as {@link serializeSafetensors}), atomically: a
 * temporary file in the same folder is renamed onto `path`. Tensors are encoded one at a time.
 */
export async function writeSafetensors(
  path: string,
  tensors: SafetensorsInput,
  options: SerializeSafetensorsOptions = {},
): Promise<void> {
  const plan = planSafetensors(tensors, options);
  await writeFileAtomic(path, async (handle) => {
    let position = await writeAll(handle, plan.header, 0);
    for (const tensor of plan.tensors) {
      position = await writeAll(handle, tensor.encode(), position);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Sharded checkpoints

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
 * else every shard of `model.safetensors.index.json`, merged. Throws `SafetensorsError` with code
 * `CHECKPOINT_FORMAT` when there is neither, when a tensor is in two shards, or when the index puts
 * a tensor in a shard that lacks it.
 */
export async function loadCheckpointTensors(
  dir: string,
  options: ReadSafetensorsOptions = {},
): Promise<CheckpointTensors> {
  const single = join(dir, SAFETENSORS_SINGLE_FILE);
  if (await isFile(single)) {
    return { ...(await readSafetensors(single, options)), files: [single] };
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
