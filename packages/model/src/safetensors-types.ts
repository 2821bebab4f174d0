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
  /**
   * Called with every tensor's name, dtype and shape (of all the files of a checkpoint, merged) once
   * the headers are read and before any tensor data is read or allocated; throw to refuse them.
   */
  checkTensors?: (tensors: ReadonlyMap<string, TensorDescription>) => void;
}

/** A tensor as a header (or a pickle) describes it, before any of its data is read. */
export interface TensorDescription {
  /** Stored dtype, in safetensors spelling (`F32`, `BF16`, `I64`, …). */
  dtype: string;
  shape: readonly number[];
}

/** Options of {@link loadCheckpointTensors} and `loadWeightTensors`. */
export interface LoadCheckpointTensorsOptions extends ReadSafetensorsOptions {
  /**
   * Called with each file's path (index files included) before it is first opened, e.g. to check its
   * sha256 against a manifest; throw to refuse it.
   */
  beforeRead?: (path: string) => Promise<void>;
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
