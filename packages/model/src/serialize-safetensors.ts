import { ModelError } from "./model-errors.js";
import { encodeTensor, inputError } from "./safetensors-elements.js";
import {
  DTYPES,
  FLOAT_DTYPES,
  RUST_DTYPE_RANK,
  compareCodePoints,
  elementCount,
  isDtype,
  validShape,
} from "./safetensors-internals.js";
import {
  SAFETENSORS_ITEM_BYTES,
  SAFETENSORS_MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type SafetensorsInput,
  type SerializeSafetensorsOptions,
  type TensorEntry,
} from "./safetensors-types.js";

// Serialization: the header bytes and a per-tensor encoder, in the order the writers emit them.

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

export function inputEntries(tensors: SafetensorsInput): Array<[string, TensorEntry]> {
  return tensors instanceof Map
    ? [...(tensors as ReadonlyMap<string, TensorEntry>)]
    : Object.entries(tensors as Readonly<Record<string, TensorEntry>>);
}

/** Checks one input tensor and works out how it will be stored (data is encoded later, on demand). */
export function planTensor(
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

export function planSafetensors(
  tensors: SafetensorsInput,
  options: SerializeSafetensorsOptions,
): SafetensorsPlan {
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
