import { getFloat16, setFloat16 } from "@petamoriken/float16";
import { ModelError } from "./model-errors.js";
import { LITTLE_ENDIAN, tensorField } from "./safetensors-internals.js";
import {
  SAFETENSORS_ITEM_BYTES,
  type SafetensorsDtype,
  type TensorData,
  type TensorEntry,
} from "./safetensors-types.js";

// Element conversion between safetensors dtypes and JS typed arrays (float16/bfloat16, byte order).

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
export function decodeTensor(dtype: SafetensorsDtype, bytes: Uint8Array, toFloat32: boolean): TensorData {
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

export function inputError(name: string, what: string, fix: string): ModelError {
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
export function encodeTensor(name: string, entry: TensorEntry, target: SafetensorsDtype): Uint8Array {
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
