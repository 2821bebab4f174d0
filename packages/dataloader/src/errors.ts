import { hasMarker, PythiaError } from "@pythia/core";

const MARKER = Symbol.for("@pythia/dataloader.error");

/** Stable machine-readable error codes thrown by `@pythia/dataloader`. */
export type DataloaderErrorCode =
  "DATASET_FORMAT" | "DATASET_IO" | "DATASET_RANGE" | "DATASET_INPUT" | "NPY_FORMAT";

/** Base class of every error this package throws; `isInstance` works across duplicate installs. */
export class DataloaderError extends PythiaError<DataloaderErrorCode> {
  override name = "DataloaderError";
  readonly [MARKER] = true;

  /** True for errors thrown by any copy of `@pythia/dataloader`. */
  static override isInstance(error: unknown): error is DataloaderError {
    return hasMarker(error, MARKER);
  }
}

/**
 * A `.bin`/`.idx` (or `.npy`) file is malformed: the message names the file, the field and, where it
 * helps, the byte offset, and says what to do.
 */
export class DatasetFormatError extends DataloaderError {
  /** The offending file. */
  readonly file: string;
  /** The header field or array, e.g. `magic`, `dtype`, `pointers[17]`. */
  readonly field: string;
  /** Byte offset in `file`, when one applies. */
  readonly offset: number | undefined;

  constructor(params: {
    file: string;
    field: string;
    message: string;
    offset?: number;
    code?: DataloaderErrorCode;
  }) {
    const at = params.offset === undefined ? "" : ` (byte ${params.offset})`;
    super(params.code ?? "DATASET_FORMAT", `${params.file}: ${params.field}${at}: ${params.message}`);
    this.name = "DatasetFormatError";
    this.file = params.file;
    this.field = params.field;
    this.offset = params.offset;
  }
}
