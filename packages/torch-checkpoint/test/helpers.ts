import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path inside this package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
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

/**
 * A torch checkpoint in the legacy (pre-1.6) format, built as `torch.save(...,
 * _use_new_zipfile_serialization=False)` lays it out: magic number, protocol version and sys_info
 * pickles, the object's pickle (storages as 6-tuple persistent ids), the storage key list, then each
 * storage as an int64 element count and its elements. `tensors`: name → float32 values (1-D).
 */
export async function legacyCheckpoint(tensors: Array<[string, Float32Array]>): Promise<Uint8Array> {
  const { PickleWriter, PickleOrderedDict } = await import("../src/pickle-writer.js");
  const pickle = (write: (writer: InstanceType<typeof PickleWriter>) => void): Uint8Array => {
    const writer = new PickleWriter();
    writer.begin();
    write(writer);
    writer.end();
    return writer.result();
  };
  const magic = pickle((w) => w.value(0x1950a86a20f9469cfc6cn));
  const protocol = pickle((w) => w.value(1001));
  const sysInfo = pickle((w) =>
    w.value(
      new Map<string, unknown>([
        ["protocol_version", 1001],
        ["little_endian", true],
        [
          "type_sizes",
          new Map([
            ["short", 2],
            ["int", 4],
            ["long", 4],
          ]),
        ],
      ]),
    ),
  );
  const keys = tensors.map((_, i) => String(1000 + i));
  const main = pickle((w) => {
    w.global("collections", "OrderedDict");
    w.tuple([]);
    w.reduce();
    w.mark();
    tensors.forEach(([name, values], i) => {
      w.value(name);
      w.global("torch._utils", "_rebuild_tensor_v2");
      w.mark();
      w.mark();
      w.value("storage");
      w.global("torch", "FloatStorage");
      w.value(keys[i]);
      w.value("cpu");
      w.value(values.length);
      w.value(null);
      w.tupleFromMark();
      w.persistentId();
      w.value(0);
      w.tuple([values.length]);
      w.tuple([1]);
      w.value(false);
      w.value(new PickleOrderedDict());
      w.tupleFromMark();
      w.reduce();
    });
    w.raw(0x75); // SETITEMS
  });
  const keyList = pickle((w) => w.value(keys));
  const parts: Uint8Array[] = [magic, protocol, sysInfo, main, keyList];
  for (const [, values] of tensors) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(values.length), true);
    parts.push(count, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
