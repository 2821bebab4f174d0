/**
 * The compute options every `pythia-*` command takes (`--backend`, `--threads`) and the start-up line
 * that says which backend runs. A subpath (`@pythia/model/cli-options`) so that library users of the
 * main entry do not load commander.
 */
import { InvalidArgumentError, Option } from "commander";
import { integerArgument, numberArgument } from "@pythia/core/cli";
import { BACKENDS, initCompute, type BackendName, type ComputeInfo } from "./compute.js";
import { pythiaPreset } from "./config.js";

/** `--backend auto|tfjs-node-gpu|tfjs-node|wasm|cpu`. */
export function backendOption(): Option {
  return new Option(
    "--backend <name>",
    "tfjs backend (default: PYTHIA_BACKEND or the best available)",
  ).choices(["auto", ...BACKENDS]);
}

/** Commander parser for `--preset <name>`: a known Pythia size (else a usage error, exit 2); returns the name. */
export function presetArgument(value: string): string {
  try {
    pythiaPreset(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

/** Commander parser for `--temperature`: a number ≥ 0 (0: greedy). */
export function temperatureArgument(value: string): number {
  const parsed = numberArgument(value);
  if (parsed < 0) {
    throw new InvalidArgumentError(`expected a temperature of 0 (greedy) or more, got "${value}"`);
  }
  return parsed;
}

/** Commander parser for `--top-p`: a probability mass in (0, 1]. */
export function topPArgument(value: string): number {
  const parsed = numberArgument(value);
  if (!(parsed > 0 && parsed <= 1)) {
    throw new InvalidArgumentError(`expected a probability mass above 0 and at most 1, got "${value}"`);
  }
  return parsed;
}

/** `--threads <n>` for the wasm backend's matrix products. */
export function threadsOption(): Option {
  return new Option(
    "--threads <n>",
    "wasm backend: threads for the matrix products (default: PYTHIA_WASM_THREADS or 1)",
  ).argParser(integerArgument);
}

/** One line naming the backend, e.g. `backend wasm (SIMD on, 2 threads)`. */
export function describeCompute(info: ComputeInfo): string {
  const wasm = info.wasm
    ? ` (SIMD ${info.wasm.simd ? "on" : "off"}, ${info.wasm.threads} thread${info.wasm.threads === 1 ? "" : "s"})`
    : "";
  return `backend ${info.backend}${wasm}`;
}

/**
 * `initCompute` from the parsed `--backend` / `--threads`, then `write`s which backend runs (and why
 * fewer threads run than asked, when that happens).
 */
export async function startComputeFromOptions(params: {
  options: { backend?: string; threads?: number };
  /** Used when `--backend` is absent. @default PYTHIA_BACKEND, else the best available */
  defaultBackend?: BackendName | "auto";
  write: (line: string) => void;
}): Promise<ComputeInfo> {
  const info = await initCompute({
    backend: (params.options.backend ?? params.defaultBackend) as BackendName | "auto" | undefined,
    threads: params.options.threads,
  });
  params.write(describeCompute(info));
  if (info.wasm?.threadsFallback !== undefined) {
    params.write(info.wasm.threadsFallback);
  }
  return info;
}
