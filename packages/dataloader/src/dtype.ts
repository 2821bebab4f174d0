import { DataloaderError } from "./errors.js";

/** Element types of GPT-NeoX indexed datasets, by their numpy names. */
export type DtypeName = "uint8" | "int8" | "int16" | "int32" | "int64" | "float32" | "float64" | "uint16";

/** A typed array holding one dtype's elements. */
export type TokenArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint16Array;

/** One dtype: its `.idx` code, element size and typed array constructor. */
export interface DtypeInfo {
  name: DtypeName;
  code: number;
  itemSize: number;
  /** Smallest and largest storable value (token ids must fit). */
  min: number;
  max: number;
  create(length: number): TokenArray;
  view(buffer: ArrayBuffer, byteOffset: number, length: number): TokenArray;
}

function info(
  name: DtypeName,
  code: number,
  itemSize: number,
  min: number,
  max: number,
  Type: {
    new (length: number): TokenArray;
    new (buffer: ArrayBuffer, byteOffset: number, length: number): TokenArray;
  },
): DtypeInfo {
  return {
    name,
    code,
    itemSize,
    min,
    max,
    create: (length) => new Type(length),
    view: (buffer, byteOffset, length) => new Type(buffer, byteOffset, length),
  };
}

/** The dtype table of Megatron/GPT-NeoX `indexed_dataset.py` (`dtypes`), by code. */
export const DTYPES: readonly DtypeInfo[] = [
  info("uint8", 1, 1, 0, 255, Uint8Array),
  info("int8", 2, 1, -128, 127, Int8Array),
  info("int16", 3, 2, -32768, 32767, Int16Array),
  info("int32", 4, 4, -(2 ** 31), 2 ** 31 - 1, Int32Array),
  info("int64", 5, 8, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, BigInt64Array),
  info("float32", 6, 4, -Infinity, Infinity, Float32Array),
  info("float64", 7, 8, -Infinity, Infinity, Float64Array),
  info("uint16", 8, 2, 0, 65535, Uint16Array),
];

/** Dtype by `.idx` code, or `null` for an unknown code. */
export function dtypeByCode(code: number): DtypeInfo | null {
  return DTYPES.find((dtype) => dtype.code === code) ?? null;
}

/** Dtype by numpy name; throws a `DataloaderError` naming the valid names otherwise. */
export function dtypeByName(name: string): DtypeInfo {
  const found = DTYPES.find((dtype) => dtype.name === name);
  if (found === undefined) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `unknown dtype "${name}"; use one of ${DTYPES.map((dtype) => dtype.name).join(", ")}`,
    );
  }
  return found;
}

/** GPT-NeoX's choice for token files (`make_builder`): uint16 when the vocabulary has fewer than 65500 ids, else int32. */
export function bestDtype(vocabSize: number): DtypeInfo {
  return dtypeByName(vocabSize < 65500 ? "uint16" : "int32");
}
