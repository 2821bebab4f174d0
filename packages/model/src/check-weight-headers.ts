import type { GPTNeoXConfig } from "./config.js";
import { ModelError } from "./model-errors.js";
import { LEGACY_BUFFER_PATTERN, parameterSpecs } from "./parameter-names.js";
import type { TensorDescription } from "./safetensors-types.js";

/** Parameters of `checkWeightHeaders`. */
export interface CheckWeightHeadersParams {
  config: GPTNeoXConfig;
  /** Every tensor of the checkpoint's weight files, by name. */
  tensors: ReadonlyMap<string, TensorDescription>;
  /** The checkpoint folder, for the message. */
  source: string;
}

const FLOAT_DTYPES: ReadonlySet<string> = new Set(["F32", "F16", "BF16", "F64"]);

/**
 * True for names `loadCheckpoint` reads: the parameters, not the legacy buffers of old Pythia
 * checkpoints nor a tied `embed_out.weight` (both are skipped, never read).
 */
export function isParameterToRead(config: GPTNeoXConfig, name: string): boolean {
  return !LEGACY_BUFFER_PATTERN.test(name) && !(config.tieWordEmbeddings && name === "embed_out.weight");
}

/**
 * Checks the tensor names, shapes and dtypes of a checkpoint's headers against its configuration, so
 * that a stray or mis-shaped tensor is refused before its bytes are read or allocated.
 * @throws ModelError (`CHECKPOINT_FORMAT`) listing missing, unexpected, mis-shaped and non-float tensors.
 */
export function checkWeightHeaders(params: CheckWeightHeadersParams): void {
  const specs = parameterSpecs(params.config);
  const problems: string[] = [];
  for (const spec of specs) {
    const tensor = params.tensors.get(spec.name);
    if (tensor === undefined) {
      problems.push(`missing ${spec.name} ${JSON.stringify(spec.shape)}`);
    } else if (
      tensor.shape.length !== spec.shape.length ||
      tensor.shape.some((size, i) => size !== spec.shape[i])
    ) {
      problems.push(
        `${spec.name} has shape ${JSON.stringify(tensor.shape)}, config.json implies ${JSON.stringify(spec.shape)}`,
      );
    } else if (!FLOAT_DTYPES.has(tensor.dtype)) {
      problems.push(`${spec.name} is ${tensor.dtype}, not a float tensor`);
    }
  }
  const known = new Set(specs.map((spec) => spec.name));
  for (const [name, tensor] of params.tensors) {
    if (!known.has(name) && isParameterToRead(params.config, name)) {
      problems.push(`unexpected tensor ${name} ${JSON.stringify(tensor.shape)}`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join("; ");
    throw new ModelError(
      "CHECKPOINT_FORMAT",
      `${params.source}: the weights do not match the configuration (${problems.length} problem(s)): ${shown}${problems.length > 8 ? "; …" : ""}. Check that config.json belongs to these weights; no tensor data was read.`,
    );
  }
}
