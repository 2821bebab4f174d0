import { SafetensorsError } from "./model-errors.js";
import { SAFETENSORS_ITEM_BYTES, type SafetensorsDtype } from "./safetensors-types.js";

// Helpers shared by the safetensors reader and writers.

export const DTYPES = Object.keys(SAFETENSORS_ITEM_BYTES) as SafetensorsDtype[];
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(["F32", "F16", "BF16", "F64"]);
/** Order of the Rust `Dtype` enum ("increasing alignment order"); its writer sorts descending. */
export const RUST_DTYPE_RANK: Readonly<Record<SafetensorsDtype, number>> = {
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
export const DEFAULT_CHUNK_BYTES = 2 ** 30;
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;
export const SHARD_FILE_PATTERN = /^model-\d{5}-of-\d{5}\.safetensors$/;
export const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
export const TRUNCATED_FIX = "the file is truncated or is not a safetensors file; download or save it again";
export const CORRUPT_FIX = "the header is corrupt or was written by a broken writer; save the file again";

export function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && (DTYPES as string[]).includes(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function tensorField(name: string, key?: string): string {
  return key === undefined ? `tensor ${JSON.stringify(name)}` : `tensor ${JSON.stringify(name)} ${key}`;
}

export function formatError(file: string, field: string, what: string, fix: string): SafetensorsError {
  return new SafetensorsError({ file, field, what, fix });
}

/** Compares strings by Unicode code point (Python's and Rust's string order), not by UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
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
export function elementCount(shape: readonly number[]): number | null {
  let count = 1;
  for (const dim of shape) {
    count *= dim;
  }
  return Number.isSafeInteger(count) ? count : null;
}

export function validShape(shape: unknown): shape is number[] {
  return (
    Array.isArray(shape) &&
    shape.every((dim) => typeof dim === "number" && Number.isSafeInteger(dim) && dim >= 0)
  );
}
