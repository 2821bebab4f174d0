import { ModelError, SafetensorsError } from "./model-errors.js";
import {
  CORRUPT_FIX,
  DTYPES,
  TRUNCATED_FIX,
  elementCount,
  formatError,
  isDtype,
  isRecord,
  tensorField,
  validShape,
} from "./safetensors-internals.js";
import {
  SAFETENSORS_ITEM_BYTES,
  SAFETENSORS_MAX_HEADER_BYTES,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from "./safetensors-types.js";

// Header parsing: the uint64 length, the JSON header and its checks (dtypes, shapes, offsets).

/** Reads and checks N (bytes 0..8) against the limit and the file size. */
export function headerLengthOf(bytes: Uint8Array, file: string, fileSize: number): number {
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
