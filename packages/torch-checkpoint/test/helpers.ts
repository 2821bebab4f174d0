import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";

/** Absolute path inside this package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/**
 * A reference fixture from the shared fixtures folder: `$PYTHIA_SHARED_FIXTURES` or
 * `<repo>/../shared/fixtures`. Null when absent, except under `CI=true`, where it fails the run.
 */
export function sharedFixture(relative: string): string | null {
  const root = process.env.PYTHIA_SHARED_FIXTURES ?? resolve(packagePath("."), "../../../shared/fixtures");
  const path = join(root, relative);
  if (existsSync(path)) {
    return path;
  }
  if (process.env.CI === "true") {
    throw new Error(
      `${path} is missing: set PYTHIA_SHARED_FIXTURES to the shared fixtures folder (CI must not skip these tests)`,
    );
  }
  return null;
}

/** The F32 tensors of a safetensors file (a minimal reader: the references are all F32). */
export function readSafetensorsF32(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__" || info.dtype !== "F32") {
      continue;
    }
    const [begin, end] = info.data_offsets;
    const copy = bytes.subarray(8 + length + begin, 8 + length + end).slice();
    out.set(name, {
      shape: info.shape,
      data: new Float32Array(copy.buffer, copy.byteOffset, (end - begin) / 4),
    });
  }
  return out;
}

/** Rounds float32 values to float16 (nearest even) and back, as torch's `.half()` does. */
export function roundToFloat16(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.fround(f16round(values[i] as number));
  }
  return out;
}

function f16round(x: number): number {
  if (!Number.isFinite(x) || x === 0) {
    return x;
  }
  const sign = Math.sign(x);
  const abs = Math.abs(x);
  if (abs >= 65520) {
    return sign * Infinity;
  }
  const exponent = Math.max(Math.floor(Math.log2(abs)), -14);
  const quantum = 2 ** (exponent - 10);
  let q = abs / quantum;
  const floor = Math.floor(q);
  const rest = q - floor;
  q = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return sign * q * quantum;
}

/** Rounds float32 values to bfloat16 (nearest even) and back, as torch's `.bfloat16()` does. */
export function roundToBfloat16(values: Float32Array): Float32Array {
  const words = new Uint32Array(values.slice().buffer);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as number;
    const rounded = (w + 0x7fff + ((w >>> 16) & 1)) >>> 0;
    words[i] = (rounded & 0xffff0000) >>> 0;
  }
  return new Float32Array(words.buffer);
}
