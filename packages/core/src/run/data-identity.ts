import { createHash } from "node:crypto";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { sha256File } from "../hash.js";
import { RunError } from "./run-errors.js";
import type {
  DataIdentityChange,
  DataIdentityFormat,
  DatasetIdentityFormat,
  FileIdentityFormat,
} from "./run-format.js";

/** Bytes read from each end of a `.bin` for its fast checksum. */
export const BIN_SAMPLE_BYTES = 1 << 20;

/** Parameters of `datasetIdentity`. */
export interface DatasetIdentityParams {
  /** The `.bin/.idx` prefix (absolute, or relative to the working directory). */
  prefix: string;
}

/**
 * A tokenized dataset's identity: the `.idx` hashed in full (it holds every document's size and
 * offset, so any change in the documents' lengths shows), and the `.bin`'s size with a fast checksum,
 * `binSampleSha256` = sha256 of the size (8 bytes, little-endian), the first MiB and the last MiB (the
 * whole file when it is 2 MiB or less). Cost: one read of the `.idx` and at most 2 MiB of the `.bin`.
 * A change inside the `.bin` that keeps every document's length and both ends is not seen.
 * @throws RunError (`RUN_DIR`) when a file cannot be read.
 */
export async function datasetIdentity(params: DatasetIdentityParams): Promise<DatasetIdentityFormat> {
  const idx = `${params.prefix}.idx`;
  const bin = `${params.prefix}.bin`;
  const idxBytes = sizeOf(idx);
  const binBytes = sizeOf(bin);
  return {
    prefix: params.prefix,
    idxBytes,
    idxSha256: await sha256File(idx),
    binBytes,
    binSampleSha256: sampleSha256(bin, binBytes),
  };
}

/** Parameters of `fileIdentity`. */
export interface FileIdentityParams {
  path: string;
}

/**
 * A source file's identity: its size and full sha256 (one streaming pass).
 * @throws RunError (`RUN_DIR`) when it cannot be read.
 */
export async function fileIdentity(params: FileIdentityParams): Promise<FileIdentityFormat> {
  const bytes = sizeOf(params.path);
  try {
    return { path: params.path, bytes, sha256: await sha256File(params.path) };
  } catch (error) {
    throw new RunError(
      "RUN_DIR",
      `${params.path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
}

/**
 * The fields in which `current` differs from `previous`: the datasets' contents (not their prefixes:
 * the same bytes elsewhere are the same data), the order's kind and validation fraction, and the
 * tokenizer and inputs when both record them. The seed, sequence length and sample count belong to
 * the training configuration, which the trainer compares on its own.
 */
export function compareDataIdentity(
  previous: DataIdentityFormat,
  current: DataIdentityFormat,
): DataIdentityChange[] {
  const changes: DataIdentityChange[] = [];
  const field = (
    name: string,
    a: string | number | null | undefined,
    b: string | number | null | undefined,
  ) => {
    if ((a ?? null) !== (b ?? null)) {
      changes.push({ field: name, previous: a ?? null, current: b ?? null });
    }
  };
  const dataset = (
    name: string,
    a: DatasetIdentityFormat | undefined,
    b: DatasetIdentityFormat | undefined,
  ) => {
    if (a === undefined || b === undefined) {
      field(`${name}.prefix`, a?.prefix, b?.prefix);
      return;
    }
    field(`${name}.idxSha256`, a.idxSha256, b.idxSha256);
    field(`${name}.binBytes`, a.binBytes, b.binBytes);
    field(`${name}.binSampleSha256`, a.binSampleSha256, b.binSampleSha256);
  };
  dataset("train", previous.train, current.train);
  dataset("validation", previous.validation, current.validation);
  field("order.kind", previous.order.kind, current.order.kind);
  field("order.validationFraction", previous.order.validationFraction, current.order.validationFraction);
  if (previous.tokenizer !== undefined && current.tokenizer !== undefined) {
    field("tokenizer.sha256", previous.tokenizer.sha256, current.tokenizer.sha256);
  }
  if (previous.inputs !== undefined && current.inputs !== undefined) {
    const count = Math.max(previous.inputs.length, current.inputs.length);
    for (let i = 0; i < count; i++) {
      const a = previous.inputs[i];
      const b = current.inputs[i];
      if (a === undefined || b === undefined) {
        field(`inputs[${i}].path`, a?.path, b?.path);
        continue;
      }
      field(`inputs[${i}].bytes`, a.bytes, b.bytes);
      field(`inputs[${i}].sha256`, a.sha256, b.sha256);
    }
  }
  return changes;
}

function sizeOf(path: string): number {
  const size = statSync(path, { throwIfNoEntry: false })?.size;
  if (size === undefined) {
    throw new RunError("RUN_DIR", `${path}: not found; pass the data the run was started with`);
  }
  return size;
}

function sampleSha256(path: string, size: number): string {
  const hash = createHash("sha256");
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(size));
  hash.update(header);
  const fd = openSync(path, "r");
  try {
    const read = (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buffer, done, length - done, position + done);
        if (n === 0) {
          throw new RunError("RUN_DIR", `${path}: shorter than its ${size} bytes while reading it`);
        }
        done += n;
      }
      hash.update(buffer);
    };
    if (size <= 2 * BIN_SAMPLE_BYTES) {
      read(0, size);
    } else {
      read(0, BIN_SAMPLE_BYTES);
      read(size - BIN_SAMPLE_BYTES, BIN_SAMPLE_BYTES);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
