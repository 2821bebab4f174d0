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
 * What is wrong with a checkpoint's tensors against its configuration: missing, mis-shaped, unexpected,
 * and what `dtypeProblem` finds (a problem's text, or null for a usable tensor). Empty when they match.
 */
export function weightProblems<T extends { shape: readonly number[] }>(params: {
  config: GPTNeoXConfig;
  tensors: ReadonlyMap<string, T>;
  dtypeProblem: (name: string, tensor: T) => string | null;
}): string[] {
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
    } else {
      const problem = params.dtypeProblem(spec.name, tensor);
      if (problem !== null) {
        problems.push(problem);
      }
    }
  }
  const known = new Set(specs.map((spec) => spec.name));
  for (const [name, tensor] of params.tensors) {
    if (!known.has(name) && isParameterToRead(params.config, name)) {
      problems.push(`unexpected tensor ${name} ${JSON.stringify(tensor.shape)}`);
    }
  }
  return problems;
}

/** The one-line error for `weightProblems` (the first eight shown); `note` ends the message. */
export function weightMismatchError(source: string, problems: readonly string[], note = ""): ModelError {
  const shown = problems.slice(0, 8).join("; ");
  return new ModelError(
    "CHECKPOINT_FORMAT",
    `${source}: the weights do not match the configuration (${problems.length} problem(s)): ${shown}${problems.length > 8 ? "; …" : ""}. Check that config.json belongs to these weights${note}.`,
  );
}

/**
 * Checks the tensor names, shapes and dtypes of a checkpoint's headers against its configuration, so
 * that a stray or mis-shaped tensor is refused before its bytes are read or allocated.
 * @throws ModelError (`CHECKPOINT_FORMAT`) listing missing, unexpected, mis-shaped and non-float tensors.
 */
export function checkWeightHeaders(params: CheckWeightHeadersParams): void {
  const problems = weightProblems({
    config: params.config,
    tensors: params.tensors,
    dtypeProblem: (name, tensor) =>
      FLOAT_DTYPES.has(tensor.dtype) ? null : `${name} is ${tensor.dtype}, not a float tensor`,
  });
  if (problems.length > 0) {
    throw weightMismatchError(params.source, problems, "; no tensor data was read");
  }
}
