import type { ByteSource } from "./byte-source.js";
import { checkpointError } from "./torch-checkpoint-error.js";

/** Element types of torch storages this package reads, spelled like safetensors dtypes. */
export type TorchDtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

/** Bytes per element of each dtype. */
export const TORCH_ITEM_BYTES: Readonly<Record<TorchDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** `torch.<Name>Storage` → element type (the classes torch.save names in persistent ids). */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, TorchDtype>> = {
  DoubleStorage: "F64",
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

/** `torch.<dtype>` names → element type (dtypes appear as globals in some pickles). */
export const TORCH_DTYPE_NAMES: Readonly<Record<string, TorchDtype>> = {
  float64: "F64",
  double: "F64",
  float32: "F32",
  float: "F32",
  float16: "F16",
  half: "F16",
  bfloat16: "BF16",
  int64: "I64",
  long: "I64",
  int32: "I32",
  int: "I32",
  int16: "I16",
  short: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};

/** Elements of a tensor read from disk; see {@link readTorchTensor} for which array each dtype gives. */
export type TorchTensorArray =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** A tensor's values: dtype (as stored, or F32 after conversion), row-major shape and elements. */
export interface TorchTensorData {
  dtype: TorchDtype;
  shape: number[];
  data: TorchTensorArray;
}

/** A storage: a run of `numel` elements somewhere in the checkpoint file. */
export class TorchStorage {
  /** File offset of element 0, known once the file's layout has been read. */
  fileOffset = -1;
  constructor(
    /** The storage's key in the file (`data/<key>` in a zip, the root key in a legacy file). */
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number,
    /** Device it was saved from (`cpu`, `cuda:0`); ignored when reading. */
    readonly location: string,
  ) {}
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
  ) {}

  /** The element type (the storage's). */
  get dtype(): TorchDtype {
    return this.storage.dtype;
  }

  /** Number of elements. */
  get numel(): number {
    return this.shape.reduce((product, size) => product * size, 1);
  }

  /** True when the elements are row-major and back to back in the storage. */
  get isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      const size = this.shape[i] as number;
      if (size !== 1 && this.stride[i] !== expected) {
        return false;
      }
      expected *= size;
    }
    return true;
  }
}

/** Options of {@link readTorchTensor}. */
export interface ReadTorchTensorOptions {
  /**
   * Convert F16, BF16 and F64 to `Float32Array` (dtype becomes "F32"). Default false: F16 and BF16
   * come back as raw bits in a `Uint16Array`, F64 as `Float64Array`, I64 as `BigInt64Array`, U8 and
   * BOOL as `Uint8Array`.
   */
  toFloat32?: boolean;
}

/**
 * Reads one tensor's elements from `source` with positional reads of just its bytes (the span it
 * covers when it is a strided view), returned row-major.
 */
export async function readTorchTensor(
  source: ByteSource,
  tensor: TorchTensor,
  options: ReadTorchTensorOptions = {},
): Promise<TorchTensorData> {
  const { storage } = tensor;
  if (storage.fileOffset < 0) {
    throw checkpointError(
      "INPUT",
      source.name,
      `storage ${storage.key}`,
      "its place in the file is unknown",
      "read tensors through the TorchCheckpoint they came from",
    );
  }
  const itemBytes = TORCH_ITEM_BYTES[storage.dtype];
  const numel = tensor.numel;
  let raw: Uint8Array;
  if (numel === 0) {
    raw = new Uint8Array(0);
  } else if (tensor.isContiguous) {
    raw = await source.read(storage.fileOffset + tensor.storageOffset * itemBytes, numel * itemBytes);
  } else {
    const span = tensorSpan(tensor);
    const bytes = await source.read(storage.fileOffset + tensor.storageOffset * itemBytes, span * itemBytes);
    raw = gather(bytes, tensor, itemBytes);
  }
  const data = typedArray(raw, storage.dtype);
  const shape = [...tensor.shape];
  if (
    options.toFloat32 === true &&
    (storage.dtype === "F16" || storage.dtype === "BF16" || storage.dtype === "F64")
  ) {
    return { dtype: "F32", shape, data: toFloat32(data, storage.dtype) };
  }
  return { dtype: storage.dtype, shape, data };
}

/** Elements from the tensor's first to its last element in the storage (1 + Σ (size−1)·stride). */
export function tensorSpan(tensor: { shape: readonly number[]; stride: readonly number[] }): number {
  let span = 1;
  for (let i = 0; i < tensor.shape.length; i++) {
    const size = tensor.shape[i] as number;
    if (size === 0) {
      return 0;
    }
    span += (size - 1) * (tensor.stride[i] as number);
  }
  return span;
}

function gather(bytes: Uint8Array, tensor: TorchTensor, itemBytes: number): Uint8Array {
  const out = new Uint8Array(tensor.numel * itemBytes);
  const rank = tensor.shape.length;
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let element = 0; element < tensor.numel; element++) {
    out.set(bytes.subarray(source * itemBytes, (source + 1) * itemBytes), element * itemBytes);
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis] = (index[axis] as number) + 1;
      source += tensor.stride[axis] as number;
      if ((index[axis] as number) < (tensor.shape[axis] as number)) {
        break;
      }
      source -= (tensor.shape[axis] as number) * (tensor.stride[axis] as number);
      index[axis] = 0;
    }
  }
  return out;
}

function typedArray(raw: Uint8Array, dtype: TorchDtype): TorchTensorArray {
  const itemBytes = TORCH_ITEM_BYTES[dtype];
  const aligned = raw.byteOffset % itemBytes === 0 ? raw : raw.slice();
  const { buffer, byteOffset } = aligned;
  const length = aligned.byteLength / itemBytes;
  switch (dtype) {
    case "F64":
      return new Float64Array(buffer, byteOffset, length);
    case "F32":
      return new Float32Array(buffer, byteOffset, length);
    case "F16":
    case "BF16":
      return new Uint16Array(buffer, byteOffset, length);
    case "I64":
      return new BigInt64Array(buffer, byteOffset, length);
    case "I32":
      return new Int32Array(buffer, byteOffset, length);
    case "I16":
      return new Int16Array(buffer, byteOffset, length);
    case "I8":
      return new Int8Array(buffer, byteOffset, length);
    default:
      return new Uint8Array(buffer, byteOffset, length);
  }
}

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE half bits → float (exact). */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) {
    return sign * fraction * 2 ** -24;
  }
  if (exponent === 0x1f) {
    return fraction === 0 ? sign * Infinity : NaN;
  }
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 bits → float (exact: the top half of a float32). */
export function bfloat16ToFloat32(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}

function toFloat32(data: TorchTensorArray, dtype: "F16" | "BF16" | "F64"): Float32Array {
  const out = new Float32Array(data.length);
  if (dtype === "F64") {
    out.set(data as Float64Array);
    return out;
  }
  if (dtype === "BF16") {
    const words = new Uint32Array(out.buffer);
    const bits = data as Uint16Array;
    for (let i = 0; i < bits.length; i++) {
      words[i] = (bits[i] as number) << 16;
    }
    return out;
  }
  const bits = data as Uint16Array;
  for (let i = 0; i < bits.length; i++) {
    out[i] = float16ToFloat32(bits[i] as number);
  }
  return out;
}
