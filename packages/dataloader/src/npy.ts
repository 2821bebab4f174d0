import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { endianness } from "node:os";
import { temporaryPath } from "@pythia/core";
import { commitTemporaryFiles, removeTemporaryFiles } from "./atomic-file.js";
import { DataloaderError, DatasetFormatError } from "./errors.js";

// NumPy `.npy` files (numpy/lib/format.py): the 6-byte magic "\x93NUMPY", a version (major, minor),
// the header length (uint16 little-endian in version 1.0, uint32 in 2.0/3.0), then an ASCII Python
// dict literal `{'descr': '<i4', 'fortran_order': False, 'shape': (980, 2), }` padded with spaces and
// one '\n' so the data starts at a multiple of 64 bytes, then the raw C-order data.

/** The numpy dtype strings (`descr`) this module reads and writes. */
export type NpyDtype = "<i4" | "<u4" | "<i8" | "<u2" | "<f4" | "<f8" | "|u1";

/** An array as stored in a `.npy` file; `data` is C-order (row-major) with `product(shape)` elements. */
export type NpyArray =
  | { dtype: "<i4"; shape: number[]; data: Int32Array }
  | { dtype: "<u4"; shape: number[]; data: Uint32Array }
  | { dtype: "<i8"; shape: number[]; data: BigInt64Array }
  | { dtype: "<u2"; shape: number[]; data: Uint16Array }
  | { dtype: "<f4"; shape: number[]; data: Float32Array }
  | { dtype: "<f8"; shape: number[]; data: Float64Array }
  | { dtype: "|u1"; shape: number[]; data: Uint8Array };

type NpyData = NpyArray["data"];

interface NpyDtypeInfo {
  itemSize: number;
  create(buffer: ArrayBuffer, length: number): NpyData;
  matches(data: NpyData): boolean;
}

const NPY_DTYPES: Readonly<Record<NpyDtype, NpyDtypeInfo>> = {
  "<i4": {
    itemSize: 4,
    create: (buffer, length) => new Int32Array(buffer, 0, length),
    matches: (data) => data instanceof Int32Array,
  },
  "<u4": {
    itemSize: 4,
    create: (buffer, length) => new Uint32Array(buffer, 0, length),
    matches: (data) => data instanceof Uint32Array,
  },
  "<i8": {
    itemSize: 8,
    create: (buffer, length) => new BigInt64Array(buffer, 0, length),
    matches: (data) => data instanceof BigInt64Array,
  },
  "<u2": {
    itemSize: 2,
    create: (buffer, length) => new Uint16Array(buffer, 0, length),
    matches: (data) => data instanceof Uint16Array,
  },
  "<f4": {
    itemSize: 4,
    create: (buffer, length) => new Float32Array(buffer, 0, length),
    matches: (data) => data instanceof Float32Array,
  },
  "<f8": {
    itemSize: 8,
    create: (buffer, length) => new Float64Array(buffer, 0, length),
    matches: (data) => data instanceof Float64Array,
  },
  "|u1": {
    itemSize: 1,
    create: (buffer, length) => new Uint8Array(buffer, 0, length),
    matches: (data) => data instanceof Uint8Array,
  },
};

/** Spellings numpy also accepts for the same little-endian dtypes (other writers use them). */
const DESCR_ALIASES: Readonly<Record<string, NpyDtype>> = {
  "<u1": "|u1",
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const PREFIX_BYTES_V1 = 10; // magic, version, uint16 header length
const PREFIX_BYTES_V2 = 12; // magic, version, uint32 header length
const ARRAY_ALIGN = 64;
/** numpy ≥ 1.23 leaves room for the first axis to grow to this many digits (`GROWTH_AXIS_MAX_DIGITS`). */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** Bytes per `readSync`/`writeSync` call (each call is limited to 2 GiB). */
const IO_CHUNK_BYTES = 1 << 30;

/** True for the dtype strings `readNpy`/`writeNpy` support. */
export function isNpyDtype(value: string): value is NpyDtype {
  return Object.hasOwn(NPY_DTYPES, value);
}

/**
 * The exact bytes `np.save` (numpy 1.24, format 1.0) writes before the data of a C-order array:
 * magic, version, header length and the header dict padded to a multiple of 64 bytes.
 */
export function npyHeader(params: { dtype: NpyDtype; shape: readonly number[] }): Uint8Array {
  const { dtype, shape } = params;
  checkShape(shape);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.map((dim) => String(dim)).join(", ")})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) {
    dict += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  }
  const textBytes = dict.length + 1; // + '\n'
  const padding = ARRAY_ALIGN - ((PREFIX_BYTES_V1 + textBytes) % ARRAY_ALIGN);
  const headerLength = textBytes + padding;
  if (headerLength > 0xffff) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `npy header of ${headerLength} bytes does not fit format 1.0; use fewer dimensions`,
    );
  }
  const out = new Uint8Array(PREFIX_BYTES_V1 + headerLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLength & 0xff;
  out[9] = headerLength >>> 8;
  for (let i = 0; i < dict.length; i++) {
    out[PREFIX_BYTES_V1 + i] = dict.charCodeAt(i);
  }
  out.fill(0x20, PREFIX_BYTES_V1 + dict.length, out.length - 1);
  out[out.length - 1] = 0x0a;
  return out;
}

/**
 * Writes `array` as a `.npy` file byte-identical to numpy 1.24's `np.save(path, array)` (format 1.0,
 * C order). The file appears atomically: it is written to a temporary sibling and renamed into place.
 * @throws DataloaderError (`DATASET_INPUT`) when `data` does not match `dtype` or `shape`,
 *   (`DATASET_IO`) when the file cannot be written.
 */
export function writeNpy(path: string, array: NpyArray): void {
  checkLittleEndian();
  const { dtype, shape, data } = array;
  const info = dtypeInfo(dtype);
  if (!info.matches(data)) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `writeNpy ${path}: dtype ${dtype} needs a ${expectedArrayName(dtype)}, got a ${data.constructor.name}`,
    );
  }
  const header = npyHeader({ dtype, shape });
  const count = shape.reduce((product, dim) => product * dim, 1);
  if (data.length !== count) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `writeNpy ${path}: shape (${shape.join(", ")}) has ${count} elements but data has ${data.length}`,
    );
  }
  const temporary = temporaryPath(path);
  try {
    const fd = openOrThrow(temporary, "wx");
    try {
      writeFully(fd, header, temporary);
      writeFully(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), temporary);
    } finally {
      closeSync(fd);
    }
    commitTemporaryFiles([[temporary, path]]);
  } catch (error) {
    removeTemporaryFiles([temporary]);
    throw error;
  }
}

/**
 * Reads a `.npy` file (format 1.0, 2.0 or 3.0) of a supported dtype in C order, validating the magic,
 * version, header and data length. The data is read into a fresh typed array in chunks, so files
 * larger than 2 GiB work.
 * @throws DatasetFormatError (code `NPY_FORMAT`) naming the file and the field that is wrong.
 */
export function readNpy(path: string): NpyArray {
  checkLittleEndian();
  const fd = openOrThrow(path, "r");
  try {
    const fileBytes = fstatSync(fd).size;
    const fail = (field: string, message: string, offset?: number): DatasetFormatError =>
      new DatasetFormatError({ file: path, field, message, offset, code: "NPY_FORMAT" });
    if (fileBytes < PREFIX_BYTES_V1) {
      throw fail("magic", `the file has only ${fileBytes} bytes: not a .npy file (truncated?)`, 0);
    }
    const prefix = new Uint8Array(PREFIX_BYTES_V2);
    readFully(fd, prefix.subarray(0, Math.min(PREFIX_BYTES_V2, fileBytes)), 0, path);
    if (!MAGIC.every((byte, i) => prefix[i] === byte)) {
      throw fail(
        "magic",
        `expected "\\x93NUMPY", found ${JSON.stringify(String.fromCharCode(...prefix.subarray(0, 6)))}: not a .npy file`,
        0,
      );
    }
    const major = prefix[6] as number;
    const minor = prefix[7] as number;
    if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
      throw fail("version", `is ${major}.${minor}; only .npy format versions 1.0, 2.0 and 3.0 exist`, 6);
    }
    const view = new DataView(prefix.buffer);
    const prefixBytes = major === 1 ? PREFIX_BYTES_V1 : PREFIX_BYTES_V2;
    const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    const dataOffset = prefixBytes + headerLength;
    if (fileBytes < dataOffset) {
      throw fail(
        "header",
        `the header needs ${headerLength} bytes after byte ${prefixBytes} but the file ends at ${fileBytes}: truncated`,
        8,
      );
    }
    const headerBytes = new Uint8Array(headerLength);
    readFully(fd, headerBytes, prefixBytes, path);
    const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);
    const header = parseHeader(headerText, (field, message) => fail(field, message, prefixBytes));
    const info = dtypeInfo(header.dtype);
    const count = header.shape.reduce((product, dim) => product * dim, 1);
    const dataBytes = count * info.itemSize;
    if (fileBytes - dataOffset !== dataBytes) {
      throw fail(
        "data",
        fileBytes - dataOffset < dataBytes
          ? `shape (${header.shape.join(", ")}) of ${header.dtype} needs ${dataBytes} data bytes but the file has ${fileBytes - dataOffset}: truncated (delete it and regenerate)`
          : `shape (${header.shape.join(", ")}) of ${header.dtype} needs ${dataBytes} data bytes but the file has ${fileBytes - dataOffset}: trailing bytes or a wrong header`,
        dataOffset,
      );
    }
    const buffer = allocate(dataBytes, path);
    readFully(fd, new Uint8Array(buffer), dataOffset, path);
    return { dtype: header.dtype, shape: header.shape, data: info.create(buffer, count) } as NpyArray;
  } finally {
    closeSync(fd);
  }
}

interface ParsedHeader {
  dtype: NpyDtype;
  shape: number[];
}

type Fail = (field: string, message: string) => DatasetFormatError;

/** Python literal values that can appear in a `.npy` header dict. */
type PyValue = string | boolean | number | PyValue[] | Map<string, PyValue>;

/** Parses and checks the header dict (`ast.literal_eval` of the subset numpy writes). */
function parseHeader(text: string, fail: Fail): ParsedHeader {
  if (!text.endsWith("\n")) {
    throw fail("header", "does not end with a newline: corrupt or not written by numpy");
  }
  let value: PyValue;
  try {
    value = new LiteralParser(text.trimEnd()).parseAll();
  } catch (error) {
    throw fail(
      "header",
      `is not a Python dict literal (${(error as Error).message}): ${JSON.stringify(text.trimEnd())}`,
    );
  }
  if (!(value instanceof Map)) {
    throw fail("header", `is not a dict: ${JSON.stringify(text.trimEnd())}`);
  }
  const keys = [...value.keys()].sort();
  if (keys.join(",") !== "descr,fortran_order,shape") {
    throw fail(
      "header",
      `has keys [${keys.join(", ")}]; a .npy header has exactly descr, fortran_order and shape`,
    );
  }
  const descr = value.get("descr");
  if (typeof descr !== "string") {
    throw fail("descr", "is not a string: structured dtypes are not supported; save a plain numeric array");
  }
  const dtype = isNpyDtype(descr) ? descr : DESCR_ALIASES[descr];
  if (dtype === undefined) {
    throw fail(
      "descr",
      `is '${descr}'; supported dtypes are ${Object.keys(NPY_DTYPES).join(", ")} (little-endian); convert with arr.astype(...)`,
    );
  }
  const fortranOrder = value.get("fortran_order");
  if (typeof fortranOrder !== "boolean") {
    throw fail("fortran_order", "is not True or False");
  }
  if (fortranOrder) {
    throw fail("fortran_order", "is True; only C-order arrays are supported: save np.ascontiguousarray(arr)");
  }
  const shape = value.get("shape");
  if (
    !Array.isArray(shape) ||
    !shape.every((dim): dim is number => typeof dim === "number" && Number.isSafeInteger(dim) && dim >= 0)
  ) {
    throw fail("shape", "is not a tuple of non-negative integers");
  }
  const count = shape.reduce((product, dim) => product * dim, 1);
  if (!Number.isSafeInteger(count)) {
    throw fail("shape", `(${shape.join(", ")}) has too many elements`);
  }
  return { dtype, shape };
}

/** A recursive-descent parser for the Python literals of a `.npy` header (dict, str, bool, int, tuple, list). */
class LiteralParser {
  private index = 0;

  constructor(private readonly text: string) {}

  parseAll(): PyValue {
    const value = this.parseValue();
    this.skipSpace();
    if (this.index !== this.text.length) {
      throw new Error(`unexpected ${JSON.stringify(this.text[this.index])} at ${this.index}`);
    }
    return value;
  }

  private parseValue(): PyValue {
    this.skipSpace();
    const char = this.text[this.index];
    if (char === "{") {
      return this.parseDict();
    }
    if (char === "(" || char === "[") {
      return this.parseSequence(char === "(" ? ")" : "]");
    }
    if (char === "'" || char === '"') {
      return this.parseString(char);
    }
    if (this.text.startsWith("True", this.index)) {
      this.index += 4;
      return true;
    }
    if (this.text.startsWith("False", this.index)) {
      this.index += 5;
      return false;
    }
    const match = /^-?[0-9]+L?/.exec(this.text.slice(this.index, this.index + 32));
    if (match !== null) {
      this.index += match[0].length;
      return Number(match[0].replace("L", ""));
    }
    throw new Error(`unexpected ${JSON.stringify(char ?? "end")} at ${this.index}`);
  }

  private parseDict(): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.index++; // {
    for (;;) {
      this.skipSpace();
      if (this.text[this.index] === "}") {
        this.index++;
        return out;
      }
      const key = this.parseValue();
      if (typeof key !== "string") {
        throw new Error("dict keys must be strings");
      }
      this.expect(":");
      out.set(key, this.parseValue());
      this.skipSpace();
      if (this.text[this.index] === ",") {
        this.index++;
      } else if (this.text[this.index] !== "}") {
        throw new Error(`expected "," or "}" at ${this.index}`);
      }
    }
  }

  private parseSequence(close: string): PyValue[] {
    const out: PyValue[] = [];
    this.index++; // ( or [
    for (;;) {
      this.skipSpace();
      if (this.text[this.index] === close) {
        this.index++;
        return out;
      }
      out.push(this.parseValue());
      this.skipSpace();
      if (this.text[this.index] === ",") {
        this.index++;
      } else if (this.text[this.index] !== close) {
        throw new Error(`expected "," or "${close}" at ${this.index}`);
      }
    }
  }

  private parseString(quote: string): string {
    const end = this.text.indexOf(quote, this.index + 1);
    if (end < 0) {
      throw new Error("unterminated string");
    }
    const value = this.text.slice(this.index + 1, end);
    this.index = end + 1;
    return value;
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.index] !== char) {
      throw new Error(`expected "${char}" at ${this.index}`);
    }
    this.index++;
  }

  private skipSpace(): void {
    while (this.index < this.text.length && /\s/.test(this.text[this.index] as string)) {
      this.index++;
    }
  }
}

function allocate(bytes: number, path: string): ArrayBuffer {
  try {
    return new ArrayBuffer(bytes);
  } catch (error) {
    throw new DataloaderError(
      "DATASET_IO",
      `cannot allocate ${bytes} bytes for the data of ${path} (${(error as Error).message}); Node 20 caps one array at 4 GiB and needs that much free memory`,
      { cause: error },
    );
  }
}

function dtypeInfo(dtype: string): NpyDtypeInfo {
  if (!isNpyDtype(dtype)) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `unsupported npy dtype "${dtype}"; use one of ${Object.keys(NPY_DTYPES).join(", ")}`,
    );
  }
  return NPY_DTYPES[dtype];
}

function expectedArrayName(dtype: NpyDtype): string {
  const names: Record<NpyDtype, string> = {
    "<i4": "Int32Array",
    "<u4": "Uint32Array",
    "<i8": "BigInt64Array",
    "<u2": "Uint16Array",
    "<f4": "Float32Array",
    "<f8": "Float64Array",
    "|u1": "Uint8Array",
  };
  return names[dtype];
}

function checkShape(shape: readonly number[]): void {
  if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `npy shape must be non-negative integers, got (${shape.join(", ")})`,
    );
  }
}

function checkLittleEndian(): void {
  if (endianness() !== "LE") {
    throw new DataloaderError("DATASET_IO", ".npy files here are little-endian; this machine is big-endian");
  }
}

function openOrThrow(path: string, flags: "r" | "wx"): number {
  try {
    return openSync(path, flags);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new DataloaderError(
      "DATASET_IO",
      flags === "r"
        ? `cannot open ${path} (${reason})`
        : `cannot create ${path} (${reason}); check that the directory exists and is writable`,
      { cause: error },
    );
  }
}

function readFully(fd: number, view: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < view.length) {
    const length = Math.min(IO_CHUNK_BYTES, view.length - done);
    const read = readSync(fd, view, done, length, position + done);
    if (read === 0) {
      throw new DatasetFormatError({
        file: path,
        field: "data",
        offset: position + done,
        message: "unexpected end of file",
        code: "NPY_FORMAT",
      });
    }
    done += read;
  }
}

function writeFully(fd: number, view: Uint8Array, path: string): void {
  let done = 0;
  while (done < view.length) {
    const length = Math.min(IO_CHUNK_BYTES, view.length - done);
    try {
      done += writeSync(fd, view, done, length);
    } catch (error) {
      throw new DataloaderError(
        "DATASET_IO",
        `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); is the disk full?`,
        { cause: error },
      );
    }
  }
}
