import { hasMarker, PythiaError } from "@pythia/core";

const MARKER = Symbol.for("@pythia/model.error");
const SAFETENSORS_MARKER = Symbol.for("@pythia/model.safetensors-error");

/** Stable machine-readable error codes thrown by `@pythia/model`. */
export type ModelErrorCode =
  | "SAFETENSORS_FORMAT"
  | "CHECKPOINT_FORMAT"
  /** A file of a checkpoint does not match the size or sha256 its `manifest.json` lists. */
  | "CHECKPOINT_CORRUPT"
  | "CONFIG_FORMAT"
  | "MODEL_INPUT"
  | "BACKEND"
  | "IO";

/** Base class of every error this package throws; `isInstance` works across duplicate installs. */
export class ModelError extends PythiaError<ModelErrorCode> {
  override name = "ModelError";
  readonly [MARKER] = true;

  /** True for errors thrown by any copy of `@pythia/model`. */
  static override isInstance(error: unknown): error is ModelError {
    return hasMarker(error, MARKER);
  }
}

/**
 * A safetensors file or a checkpoint folder is malformed or unreadable. The message is
 * `${file}: ${field}: ${what}; ${fix}`: the file (or folder), the header field or tensor, what is
 * wrong, and what to do about it.
 */
export class SafetensorsError extends ModelError {
  readonly [SAFETENSORS_MARKER] = true;
  /** The offending file, or the checkpoint folder. */
  readonly file: string;
  /** The header field, e.g. `header length` or `tensor "gpt_neox.embed_in.weight" data_offsets`. */
  readonly field: string;

  constructor(params: {
    file: string;
    field: string;
    what: string;
    fix: string;
    code?: ModelErrorCode;
    cause?: unknown;
  }) {
    super(
      params.code ?? "SAFETENSORS_FORMAT",
      `${params.file}: ${params.field}: ${params.what}; ${params.fix}`,
      params.cause === undefined ? undefined : { cause: params.cause },
    );
    this.name = "SafetensorsError";
    this.file = params.file;
    this.field = params.field;
  }

  /** True for `SafetensorsError`s thrown by any copy of `@pythia/model`. */
  static override isInstance(error: unknown): error is SafetensorsError {
    return hasMarker(error, SAFETENSORS_MARKER);
  }
}
