import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ModelError, SafetensorsError } from "./model-errors.js";
import type { SafetensorsContents, SafetensorsDtype, TensorData, TensorEntry } from "./safetensors.js";
import {
  loadCheckpointTensors,
  parseSafetensorsHeader,
  readSafetensors,
  readShardedIndex,
  serializeSafetensors,
  writeSafetensors,
  writeShardedSafetensors,
} from "./safetensors.js";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
const CHECKPOINTS = ["pythia-micro", "tiny-seqres-v512", "tiny-v512-f32", "tiny-v512-f16", "tiny-v512-bf16"];
/** Parameter counts from test/fixtures/HF-FIXTURES.md. */
const PARAMETERS: Record<string, number> = {
  "pythia-micro": 58_240,
  "tiny-seqres-v512": 165_632,
  "tiny-v512-f32": 165_632,
  "tiny-v512-f16": 165_632,
  "tiny-v512-bf16": 165_632,
};
const STORED_DTYPE: Record<string, SafetensorsDtype> = { float32: "F32", float16: "F16", bfloat16: "BF16" };

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pythia-safetensors-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let scratchCount = 0;
function scratchPath(name: string): string {
  scratchCount += 1;
  return join(scratch, `${scratchCount}-${name}`);
}

function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

async function readConfig(name: string): Promise<Record<string, number | string | boolean>> {
  return JSON.parse(await readFile(fixture(name, "config.json"), "utf8")) as Record<
    string,
    number | string | boolean
  >;
}

/** The HF GPT-NeoX state dict names and shapes for a config. */
function expectedShapes(config: Record<string, unknown>): Map<string, number[]> {
  const V = config.vocab_size as number;
  const H = config.hidden_size as number;
  const I = config.intermediate_size as number;
  const shapes = new Map<string, number[]>([
    ["gpt_neox.embed_in.weight", [V, H]],
    ["embed_out.weight", [V, H]],
    ["gpt_neox.final_layer_norm.weight", [H]],
    ["gpt_neox.final_layer_norm.bias", [H]],
  ]);
  for (let layer = 0; layer < (config.num_hidden_layers as number); layer++) {
    const prefix = `gpt_neox.layers.${layer}`;
    for (const norm of ["input_layernorm", "post_attention_layernorm"]) {
      shapes.set(`${prefix}.${norm}.weight`, [H]);
      shapes.set(`${prefix}.${norm}.bias`, [H]);
    }
    shapes.set(`${prefix}.attention.query_key_value.weight`, [3 * H, H]);
    shapes.set(`${prefix}.attention.query_key_value.bias`, [3 * H]);
    shapes.set(`${prefix}.attention.dense.weight`, [H, H]);
    shapes.set(`${prefix}.attention.dense.bias`, [H]);
    shapes.set(`${prefix}.mlp.dense_h_to_4h.weight`, [I, H]);
    shapes.set(`${prefix}.mlp.dense_h_to_4h.bias`, [I]);
    shapes.set(`${prefix}.mlp.dense_4h_to_h.weight`, [H, I]);
    shapes.set(`${prefix}.mlp.dense_4h_to_h.bias`, [H]);
  }
  return shapes;
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Same names, dtypes, shapes and element bytes (fast: vitest's deep equality walks elements one by one). */
function expectSameTensors(
  got: ReadonlyMap<string, TensorEntry>,
  want: ReadonlyMap<string, TensorEntry>,
): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, entry] of want) {
    const other = got.get(name)!;
    expect({ dtype: other.dtype, shape: other.shape, type: other.data.constructor.name }, name).toEqual({
      dtype: entry.dtype,
      shape: entry.shape,
      type: entry.data.constructor.name,
    });
    expect(Buffer.compare(bytesOf(other.data), bytesOf(entry.data)), name).toBe(0);
  }
}

/** Writes bytes without fsync (property tests write hundreds of files) and reads them back. */
async function readBack(bytes: Uint8Array, toFloat32 = true): Promise<SafetensorsContents> {
  const path = scratchPath("read-back.safetensors");
  await writeFile(path, bytes);
  const contents = await readSafetensors(path, { toFloat32 });
  await rm(path);
  return contents;
}

/** Reference float32 → bfloat16 bits: round to nearest even on the dropped 16 bits; NaN → 0x7FC0. */
function bfloat16Reference(value: Float32Array): number {
  const bits = new Uint32Array(value.buffer, value.byteOffset, 1)[0]!;
  if ((bits & 0x7fffffff) > 0x7f800000) {
    return 0x7fc0;
  }
  const upper = bits >>> 16;
  const lower = bits & 0xffff;
  const roundUp = lower > 0x8000 || (lower === 0x8000 && (upper & 1) === 1);
  return upper + (roundUp ? 1 : 0);
}

/** Reference float16 rounding of a float32 value (as a number), round to nearest even, with overflow to ±∞. */
function float16Reference(value: number): number {
  if (Number.isNaN(value) || !Number.isFinite(value) || value === 0) {
    return value;
  }
  const magnitude = Math.abs(value);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, magnitude);
  const exponent = ((view.getUint16(0) >>> 4) & 0x7ff) - 1023;
  const quantum = 2 ** Math.max(exponent - 10, -24);
  const scaled = magnitude / quantum;
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  const rounded = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  const result = rounded * quantum;
  return Math.sign(value) * (result > 65504 ? Infinity : result);
}

/** A file with the given header text (or bytes) and data section; N is the header's exact length. */
function craft(
  header: string | Uint8Array,
  data: Uint8Array = new Uint8Array(0),
  headerLength?: number,
): Uint8Array {
  const json = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function expectFormatError(
  bytes: Uint8Array,
  expected: { field: string; message: string | RegExp; code?: string },
): Promise<void> {
  const path = scratchPath("bad.safetensors");
  await writeFile(path, bytes);
  const error = await readSafetensors(path).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(SafetensorsError.isInstance(error), `expected a SafetensorsError, got ${String(error)}`).toBe(true);
  const typed = error as SafetensorsError;
  expect(typed).toBeInstanceOf(SafetensorsError);
  expect(typed.code).toBe(expected.code ?? "SAFETENSORS_FORMAT");
  expect(typed.file).toBe(path);
  expect(typed.field).toBe(expected.field);
  expect(typed.message.startsWith(`${path}: ${expected.field}: `)).toBe(true);
  expect(typed.message).toMatch(expected.message);
  expect(typed.message).toMatch(/; \S/); // a fix follows the description
  // The same bytes given whole to parseSafetensorsHeader fail the same way.
  expect(() => parseSafetensorsHeader(bytes, path)).toThrow(typed.message);
}

describe("fixture checkpoints", () => {
  it.each(CHECKPOINTS)("%s has the HF GPT-NeoX names and shapes of its config.json", async (name) => {
    const config = await readConfig(name);
    const { tensors, metadata } = await readSafetensors(fixture(name, "model.safetensors"));
    expect(metadata).toEqual({ format: "pt" });
    const expected = expectedShapes(config);
    expect(new Map([...tensors].map(([key, entry]) => [key, entry.shape]))).toEqual(expected);
    expect([...tensors.keys()]).toEqual([...expected.keys()].sort());
    let parameters = 0;
    for (const [key, entry] of tensors) {
      expect(entry.dtype, key).toBe(STORED_DTYPE[config.torch_dtype as string]);
      expect(entry.data).toBeInstanceOf(Float32Array);
      expect(entry.data.length).toBe(entry.shape.reduce((a, b) => a * b, 1));
      expect((entry.data as Float32Array).every(Number.isFinite), key).toBe(true);
      parameters += entry.data.length;
    }
    expect(parameters).toBe(PARAMETERS[name]);
    const H = config.hidden_size as number;
    expect(tensors.get("gpt_neox.layers.0.attention.query_key_value.weight")?.shape).toEqual([3 * H, H]);
  });

  it.each([
    ["tiny-v512-bf16", "BF16", 2 ** -8, 0],
    ["tiny-v512-f16", "F16", 2 ** -11, 1e-7],
  ] as const)(
    "%s decodes to the float32 copy of the same seed-2 model",
    async (name, dtype, relative, absolute) => {
      const reference = (await readSafetensors(fixture("tiny-v512-f32", "model.safetensors"))).tensors;
      const { tensors } = await readSafetensors(fixture(name, "model.safetensors"));
      let worst = { ratio: 0, name: "", index: -1, got: 0, want: 0 };
      for (const [key, entry] of tensors) {
        expect(entry.dtype).toBe(dtype);
        const want = reference.get(key)!.data as Float32Array;
        const got = entry.data as Float32Array;
        for (let i = 0; i < want.length; i++) {
          const ratio = Math.abs(got[i]! - want[i]!) / (relative * Math.abs(want[i]!) + absolute);
          if (ratio > worst.ratio) {
            worst = { ratio, name: key, index: i, got: got[i]!, want: want[i]! };
          }
        }
      }
      // |Δ| ≤ relative·|x| + absolute, i.e. ratio ≤ 1; the worst element is printed on failure.
      expect(worst.ratio, JSON.stringify(worst)).toBeLessThanOrEqual(1);
      expect(worst.ratio).toBeGreaterThan(0.5); // rounding really happened (half an ulp is reached)
    },
  );

  it.each([
    ["tiny-v512-bf16", "BF16"],
    ["tiny-v512-f16", "F16"],
  ] as const)(
    "the float32 copy written as %s is byte-identical to that fixture (torch's rounding)",
    async (name, dtype) => {
      const { tensors, metadata } = await readSafetensors(fixture("tiny-v512-f32", "model.safetensors"));
      const bytes = serializeSafetensors(tensors, { metadata, dtype });
      expect(Buffer.from(bytes).equals(await readFile(fixture(name, "model.safetensors")))).toBe(true);
    },
  );

  it("reads logits.safetensors with its I64 input_ids", async () => {
    const { tensors, metadata } = await readSafetensors(fixture("tiny-v512-f32", "logits.safetensors"));
    const tokens = JSON.parse(await readFile(fixture("tiny-v512-f32", "tokens.json"), "utf8")) as {
      input_ids: number[][];
    };
    expect(metadata).toEqual({});
    const ids = tensors.get("input_ids")!;
    expect(ids.dtype).toBe("I64");
    expect(ids.shape).toEqual([2, 12]);
    expect(ids.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(ids.data as BigInt64Array, Number)).toEqual(tokens.input_ids.flat());
    expect(tensors.get("logits")!.shape).toEqual([2, 12, 512]);
  });
});

describe("byte-identical rewrites", () => {
  const files = [
    ...CHECKPOINTS.map((name) => join(name, "model.safetensors")),
    ...CHECKPOINTS.map((name) => join(name, "logits.safetensors")),
    "pythia-micro/grads.safetensors",
    "pythia-micro/adamw_steps/params_step1.safetensors",
    "pythia-micro/adamw_steps/adam_state_step3.safetensors",
  ];

  it.each(files)("serializing what was read from %s gives the file back", async (file) => {
    const original = await readFile(fixture(file));
    for (const toFloat32 of [true, false]) {
      const { tensors, metadata } = await readSafetensors(fixture(file), { toFloat32 });
      expect(
        Buffer.from(serializeSafetensors(tensors, { metadata })).equals(original),
        `toFloat32 ${toFloat32}`,
      ).toBe(true);
    }
  });

  it("writeSafetensors writes the same bytes, atomically (no temporary file left)", async () => {
    const dir = scratchPath("rewrite");
    await mkdir(dir);
    const { tensors, metadata } = await readSafetensors(fixture("tiny-v512-f32", "model.safetensors"));
    await writeSafetensors(join(dir, "model.safetensors"), tensors, { metadata });
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
    expect(
      (await readFile(join(dir, "model.safetensors"))).equals(
        await readFile(fixture("tiny-v512-f32", "model.safetensors")),
      ),
    ).toBe(true);
  });

  it('order "dtype" lays data out like the Rust library (descending dtype, then name)', async () => {
    const { tensors } = await readSafetensors(fixture("tiny-v512-f32", "logits.safetensors"));
    const bytes = serializeSafetensors(tensors, { order: "dtype" });
    const header = parseSafetensorsHeader(bytes, "logits");
    expect([...header.tensors.keys()]).toEqual([
      "input_ids",
      "hidden_states.0",
      "hidden_states.1",
      "hidden_states.2",
      "logits",
      "loss",
      "token_losses",
    ]);
    expect(header.tensors.get("input_ids")!.dataOffsets).toEqual([0, 192]);
    const path = scratchPath("dtype-order.safetensors");
    await writeFile(path, bytes);
    const reread = (await readSafetensors(path)).tensors;
    expectSameTensors(reread, tensors);
  });
});

describe("serialization format", () => {
  const f32 = (values: number[]): TensorEntry => ({
    dtype: "F32",
    shape: [values.length],
    data: Float32Array.from(values),
  });

  // The expected bytes are the Rust `safetensors` crate's own serialization tests (tensor.rs).
  it("matches the safetensors crate's reference serializations", () => {
    const data = Float32Array.of(0, 1, 2, 3, 4, 5);
    const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes.subarray(8));
    const length = (bytes: Uint8Array): bigint => new DataView(bytes.buffer).getBigUint64(0, true);

    const plain = serializeSafetensors({ "attn.0": { dtype: "F32", shape: [1, 2, 3], data } });
    expect(length(plain)).toBe(64n);
    expect(text(plain.subarray(0, 72))).toBe(
      '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}',
    );
    expect(plain.subarray(72)).toEqual(bytesOf(data));

    const aligned = serializeSafetensors({ attn0: { dtype: "F32", shape: [1, 1, 2, 3], data } });
    expect(length(aligned)).toBe(72n);
    expect(text(aligned.subarray(0, 80))).toBe(
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ',
    );

    expect(Array.from(serializeSafetensors({}))).toEqual([
      8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32,
    ]);
    const withMetadata = serializeSafetensors({}, { metadata: { framework: "pt" } });
    expect(length(withMetadata)).toBe(40n);
    expect(text(withMetadata)).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it("puts __metadata__ first, sorts names by code point and omits empty metadata", () => {
    const tensors = new Map<string, TensorEntry>([
      ["\u{1F600}", f32([1])],
      ["\uFFFD", f32([2])],
      ["B", f32([3])],
      ["a", f32([4])],
    ]);
    const header = parseSafetensorsHeader(
      serializeSafetensors(tensors, { metadata: { z: "1", a: "2" } }),
      "x",
    );
    // Code points: "B" < "a" < U+FFFD < U+1F600 (UTF-16 unit order would put U+1F600 before U+FFFD).
    expect([...header.tensors.keys()]).toEqual(["B", "a", "\uFFFD", "\u{1F600}"]);
    expect(header.metadata).toEqual({ z: "1", a: "2" });
    const text = new TextDecoder().decode(serializeSafetensors(tensors, { metadata: { format: "pt" } }));
    expect(text.slice(8)).toMatch(/^\{"__metadata__":\{"format":"pt"\},"B":/);
    expect(new TextDecoder().decode(serializeSafetensors(tensors, { metadata: {} }))).not.toContain(
      "__metadata__",
    );
  });

  it("takes a record as well as a map", () => {
    const record = { b: f32([1, 2]), a: f32([3]) };
    expect(serializeSafetensors(record)).toEqual(serializeSafetensors(new Map(Object.entries(record))));
  });

  it("rejects bad input with MODEL_INPUT errors naming the tensor", () => {
    const cases: Array<[Record<string, TensorEntry>, RegExp]> = [
      [
        { w: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } },
        /tensor "w": data has 3 elements but shape \[2,2\] needs 4/,
      ],
      [{ __metadata__: f32([1]) }, /tensor "__metadata__": the name is reserved/],
      [
        { ids: { dtype: "I64", shape: [2], data: new Float32Array(2) } },
        /tensor "ids": I64 data must be a BigInt64Array/,
      ],
      [{ w: { dtype: "F32", shape: [-1], data: new Float32Array(0) } }, /tensor "w": shape \[-1\]/],
      [
        { w: { dtype: "F8" as SafetensorsDtype, shape: [1], data: new Float32Array(1) } },
        /unknown dtype "F8"/,
      ],
      [
        { w: { dtype: "F32", shape: [1], data: new Int32Array(1) } },
        /F32 data must be a Float32Array or Float64Array/,
      ],
    ];
    for (const [tensors, message] of cases) {
      let caught: unknown;
      try {
        serializeSafetensors(tensors);
      } catch (error) {
        caught = error;
      }
      expect(ModelError.isInstance(caught)).toBe(true);
      expect((caught as ModelError).code).toBe("MODEL_INPUT");
      expect((caught as ModelError).message).toMatch(message);
    }
  });

  it("stores every dtype and reads it back (integers keep their typed array)", async () => {
    const tensors: Record<string, TensorEntry> = {
      f64: { dtype: "F64", shape: [3], data: Float64Array.of(0.1, -2.5, 1e300) },
      i64: { dtype: "I64", shape: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n) },
      i32: { dtype: "I32", shape: [2], data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) },
      i16: { dtype: "I16", shape: [2], data: Int16Array.of(-32768, 32767) },
      i8: { dtype: "I8", shape: [3], data: Int8Array.of(-128, 0, 127) },
      u8: { dtype: "U8", shape: [2], data: Uint8Array.of(0, 255) },
      bool: { dtype: "BOOL", shape: [3], data: Uint8Array.of(1, 0, 1) },
      scalar: { dtype: "F32", shape: [], data: Float32Array.of(7) },
      empty: { dtype: "F16", shape: [0, 4], data: new Float32Array(0) },
    };
    const path = scratchPath("dtypes.safetensors");
    await writeSafetensors(path, tensors);
    const raw = (await readSafetensors(path, { toFloat32: false })).tensors;
    for (const [name, entry] of Object.entries(tensors)) {
      const got = raw.get(name)!;
      expect(got.dtype).toBe(entry.dtype);
      expect(got.shape).toEqual(entry.shape);
      if (name !== "empty") {
        expect(got.data, name).toEqual(entry.data);
      }
    }
    expect(raw.get("empty")!.data).toBeInstanceOf(Uint16Array);
    const asFloat32 = (await readSafetensors(path)).tensors;
    expect(asFloat32.get("f64")!.data).toEqual(Float32Array.of(0.1, -2.5, Infinity));
    expect(asFloat32.get("i64")!.data).toBeInstanceOf(BigInt64Array);
  });
});

describe("float conversions", () => {
  it("rounds 3.14159 to bfloat16 0x4049 = 3.140625", async () => {
    const path = scratchPath("pi.safetensors");
    await writeSafetensors(
      path,
      { pi: { dtype: "F32", shape: [1], data: Float32Array.of(3.14159) } },
      { dtype: "BF16" },
    );
    const bytes = await readFile(path);
    expect(bytes.readUInt16LE(bytes.length - 2)).toBe(0x4049);
    expect(bfloat16Reference(Float32Array.of(3.14159))).toBe(0x4049);
    const { tensors } = await readSafetensors(path);
    expect(tensors.get("pi")).toEqual({ dtype: "BF16", shape: [1], data: Float32Array.of(3.140625) });
  });

  it("rounds float64 data to F16 directly (no double rounding through float32)", async () => {
    // 1 + 2^-11 + 2^-40: just above the float16 midpoint; through float32 it would be a tie and round down.
    const data = Float64Array.of(1 + 2 ** -11 + 2 ** -40, -(2 ** -25), 65519.99, 65520);
    const { tensors } = await readBack(
      serializeSafetensors({ x: { dtype: "F64", shape: [4], data } }, { dtype: "F16" }),
    );
    expect(tensors.get("x")).toEqual({
      dtype: "F16",
      shape: [4],
      data: Float32Array.of(1 + 2 ** -10, -0, 65504, Infinity),
    });
  });

  // Bits with their low halves drawn from around the bfloat16 and float16 rounding boundaries.
  const lowBits = (width: number): fc.Arbitrary<number> => {
    const half = 2 ** (width - 1);
    return fc.oneof(
      fc.constantFrom(0, 1, half - 1, half, half + 1, 2 * half - 1),
      fc.integer({ min: 0, max: 2 * half - 1 }),
    );
  };
  const float32Bits = (width: number): fc.Arbitrary<number> =>
    fc
      .tuple(fc.integer({ min: 0, max: 2 ** (32 - width) - 1 }), lowBits(width))
      .map(([high, low]) => high * 2 ** width + low);
  const bitArrays = (width: number): fc.Arbitrary<Uint32Array> =>
    fc.array(float32Bits(width), { maxLength: 40 }).map((bits) => Uint32Array.from(bits));

  async function roundTrip(
    values: Float32Array,
    dtype: "F32" | "F16" | "BF16",
    toFloat32 = true,
  ): Promise<TensorEntry> {
    const bytes = serializeSafetensors(
      { x: { dtype: "F32", shape: [values.length], data: values } },
      { dtype },
    );
    return (await readBack(bytes, toFloat32)).tensors.get("x")!;
  }

  it("F32 keeps every bit pattern (NaN payloads included)", async () => {
    await fc.assert(
      fc.asyncProperty(bitArrays(16), async (bits) => {
        const values = new Float32Array(bits.buffer);
        const entry = await roundTrip(values, "F32");
        expect(entry.dtype).toBe("F32");
        expect(bytesOf(entry.data)).toEqual(bytesOf(values));
      }),
      { numRuns: 150 },
    );
  });

  it("BF16 rounds to nearest even like the reference, and decodes exactly", async () => {
    await fc.assert(
      fc.asyncProperty(bitArrays(16), async (bits) => {
        const values = new Float32Array(bits.buffer);
        const expected = Uint16Array.from(values, (_, i) => bfloat16Reference(values.subarray(i, i + 1)));
        const raw = await roundTrip(values, "BF16", false);
        expect(raw.data).toEqual(expected);
        const decoded = (await roundTrip(values, "BF16")).data as Float32Array;
        expect(new Uint32Array(decoded.buffer)).toEqual(Uint32Array.from(expected, (b) => b * 65536));
      }),
      { numRuns: 150 },
    );
  });

  it("F16 rounds to nearest even like the reference (overflow to ±∞, subnormals, −0)", async () => {
    await fc.assert(
      fc.asyncProperty(bitArrays(13), async (bits) => {
        const values = new Float32Array(bits.buffer);
        const decoded = (await roundTrip(values, "F16")).data as Float32Array;
        for (let i = 0; i < values.length; i++) {
          const want = float16Reference(values[i]!);
          expect(
            Object.is(decoded[i], want) || (Number.isNaN(want) && Number.isNaN(decoded[i])),
            `${values[i]}`,
          ).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it.each(["F16", "BF16"] as const)(
    "every non-NaN %s bit pattern survives decode + encode",
    async (dtype) => {
      const isNaN = (bits: number): boolean =>
        dtype === "F16" ? (bits & 0x7fff) > 0x7c00 : (bits & 0x7fff) > 0x7f80;
      const bits = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((pattern) => !isNaN(pattern));
      const stored = serializeSafetensors({ x: { dtype, shape: [bits.length], data: bits } });
      expect(Buffer.compare(serializeSafetensors((await readBack(stored)).tensors), stored)).toBe(0);
    },
  );

  it("F16 and BF16 bit patterns survive decode + encode unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }),
        fc.constantFrom("F16" as const, "BF16" as const),
        async (patterns, dtype) => {
          // NaNs are canonicalised on encode, so leave them out.
          const isNaN = (bits: number): boolean =>
            dtype === "F16" ? (bits & 0x7fff) > 0x7c00 : (bits & 0x7fff) > 0x7f80;
          const bits = Uint16Array.from(patterns.filter((pattern) => !isNaN(pattern)));
          const stored = serializeSafetensors({ x: { dtype, shape: [bits.length], data: bits } });
          const again = serializeSafetensors((await readBack(stored)).tensors);
          expect(Buffer.compare(again, stored)).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("random files of every dtype round-trip through write and read", async () => {
    const dtypes: SafetensorsDtype[] = ["F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"];
    const entry = fc
      .tuple(fc.constantFrom(...dtypes), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }))
      .chain(([dtype, shape]) => {
        const count = shape.reduce((a, b) => a * b, 1);
        const bytes = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }[
          dtype
        ];
        return fc
          .uint8Array({ minLength: count * bytes, maxLength: count * bytes })
          .map((raw) => ({ dtype, shape, raw }));
      });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 5 }), async (spec) => {
        // Build raw-bit tensors (NaNs are fine: no conversion happens on this path).
        const tensors = new Map<string, TensorEntry>();
        for (const [name, { dtype, shape, raw }] of Object.entries(spec)) {
          if (name === "__metadata__") {
            continue;
          }
          const { buffer } = raw.slice();
          const data: TensorData = {
            F32: () => new Float32Array(buffer),
            F16: () => new Uint16Array(buffer),
            BF16: () => new Uint16Array(buffer),
            F64: () => new Float64Array(buffer),
            I64: () => new BigInt64Array(buffer),
            I32: () => new Int32Array(buffer),
            I16: () => new Int16Array(buffer),
            I8: () => new Int8Array(buffer),
            U8: () => new Uint8Array(buffer),
            BOOL: () => new Uint8Array(buffer),
          }[dtype]();
          tensors.set(name, { dtype, shape, data });
        }
        const bytes = serializeSafetensors(tensors, { metadata: { format: "pt" } });
        const read = await readBack(bytes, false);
        expect(read.metadata).toEqual({ format: "pt" });
        expectSameTensors(read.tensors, tensors);
        expect(Buffer.compare(serializeSafetensors(read.tensors, { metadata: read.metadata }), bytes)).toBe(
          0,
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe("header validation", () => {
  const data16 = new Uint8Array(16);
  const entry = (fields: string): string => `{"w":{${fields}}}`;

  it("rejects files shorter than 8 bytes", async () => {
    await expectFormatError(Uint8Array.of(1, 2, 3, 4, 5), {
      field: "header length",
      message: /has 5 bytes, fewer than the 8/,
    });
  });

  it("rejects a header length past the end of the file", async () => {
    await expectFormatError(craft("{}", new Uint8Array(0), 1000), {
      field: "header length",
      message: /header length 1000 runs past the end of the file \(10 bytes\)/,
    });
  });

  it("rejects a header length over the 100 MB limit", async () => {
    const bytes = craft("{}");
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    await expectFormatError(bytes, {
      field: "header length",
      message: /header length 18446744073709551615 is over the 100000000-byte limit/,
    });
    new DataView(bytes.buffer).setBigUint64(0, 100_000_001n, true);
    await expectFormatError(bytes, { field: "header length", message: /100000001 is over/ });
  });

  it("rejects a header that is not UTF-8, not JSON or not an object", async () => {
    await expectFormatError(craft(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)), {
      field: "header",
      message: /not valid UTF-8/,
    });
    await expectFormatError(craft('{"w":'), { field: "header", message: /not valid JSON/ });
    await expectFormatError(craft("[1,2]"), {
      field: "header",
      message: /expected a JSON object, got \[1,2\]/,
    });
    await expectFormatError(craft("\uFEFF{}"), { field: "header", message: /not valid JSON/ });
  });

  it("rejects a malformed tensor entry", async () => {
    await expectFormatError(craft('{"w":[1]}', data16), {
      field: 'tensor "w"',
      message: /expected an object/,
    });
    await expectFormatError(craft(entry('"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]'), data16), {
      field: 'tensor "w" dtype',
      message: /unknown dtype "F8_E4M3" \(known: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL\)/,
    });
    for (const shape of ["[-1]", "[1.5]", '"4"', "[4,null]"]) {
      await expectFormatError(craft(entry(`"dtype":"F32","shape":${shape},"data_offsets":[0,16]`), data16), {
        field: 'tensor "w" shape',
        message: /expected an array of non-negative integers/,
      });
    }
  });

  it("names the tensor in data_offsets errors", async () => {
    const name = "gpt_neox.embed_in.weight";
    const field = `tensor "${name}" data_offsets`;
    const bad = (offsets: string, shape = "[4]"): Uint8Array =>
      craft(`{"${name}":{"dtype":"F32","shape":${shape},"data_offsets":${offsets}}}`, data16);
    await expectFormatError(bad("[0]"), {
      field,
      message: /expected \[begin, end\] with non-negative integers, got \[0\]/,
    });
    await expectFormatError(bad("[0,16.5]"), { field, message: /non-negative integers/ });
    await expectFormatError(bad("[-16,0]"), { field, message: /non-negative integers/ });
    await expectFormatError(bad("[16,0]"), {
      field,
      message: /\[16, 0\] is not a range inside the 16-byte data section/,
    });
    await expectFormatError(bad("[8,24]"), { field, message: /\[8, 24\] is not a range inside.*truncated/ });
    await expectFormatError(bad("[0,12]", "[2,2]"), {
      field,
      message: /holds 12 bytes but F32 \[2,2\] needs 16/,
    });
    await expectFormatError(bad("[0,16]", "[2,2,1e9,1e9]"), { field, message: /needs more than 2\^53/ });
  });

  it("rejects overlapping tensors, naming both", async () => {
    await expectFormatError(
      craft(
        '{"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
        data16,
      ),
      { field: 'tensor "b" data_offsets', message: /\[4, 12\] overlaps tensor "a" at \[0, 8\]/ },
    );
    // A tensor inside a longer one is caught even when a short one sits between them.
    await expectFormatError(
      craft(
        '{"long":{"dtype":"U8","shape":[16],"data_offsets":[0,16]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
        data16,
      ),
      { field: 'tensor "x" data_offsets', message: /overlaps tensor "long"/ },
    );
  });

  it("rejects metadata that is not string → string", async () => {
    await expectFormatError(craft('{"__metadata__":{"format":"pt","step":3}}'), {
      field: '__metadata__["step"]',
      message: /expected a string, got 3/,
    });
    await expectFormatError(craft('{"__metadata__":["pt"]}'), {
      field: "__metadata__",
      message: /expected an object of strings/,
    });
  });

  it("accepts gaps, null metadata, unpadded headers and unaligned offsets", async () => {
    const values = Float32Array.of(1.5, -2);
    const ids = BigInt64Array.of(-3n, 2n ** 40n);
    const half = Uint16Array.of(0x3c00, 0xc000); // F16 1, −2
    const data = new Uint8Array(3 + 8 + 16 + 4 + 5);
    data.set([7, 8, 9], 0);
    data.set(bytesOf(values), 3);
    data.set(bytesOf(ids), 11);
    data.set(bytesOf(half), 27);
    // 5 bytes of gap at the end; the header's odd length makes the data section start unaligned too.
    const header =
      '{"__metadata__":null,"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},' +
      '"f":{"dtype":"F32","shape":[2],"data_offsets":[3,11]},' +
      '"i":{"dtype":"I64","shape":[2],"data_offsets":[11,27]},' +
      '"h":{"dtype":"F16","shape":[2],"data_offsets":[27,31]}}';
    expect((8 + header.length + 1) % 8).not.toBe(0);
    const path = scratchPath("unaligned.safetensors");
    await writeFile(path, craft(`${header} `, data));
    const { tensors, metadata } = await readSafetensors(path);
    expect(metadata).toEqual({});
    expect(tensors.get("u")!.data).toEqual(Uint8Array.of(7, 8, 9));
    expect(tensors.get("f")!.data).toEqual(values);
    expect(tensors.get("i")!.data).toEqual(ids);
    expect(tensors.get("h")!.data).toEqual(Float32Array.of(1, -2));
  });

  it("parses a header from a prefix of the file when given the file size", () => {
    const bytes = serializeSafetensors({ w: { dtype: "F32", shape: [4], data: new Float32Array(4) } });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = parseSafetensorsHeader(bytes.subarray(0, 8 + headerLength), "w.safetensors", {
      fileSize: bytes.length,
    });
    expect(header).toMatchObject({ headerLength, dataStart: 8 + headerLength, dataLength: 16 });
    expect(header.tensors.get("w")).toEqual({ dtype: "F32", shape: [4], dataOffsets: [0, 16] });
    expect(() =>
      parseSafetensorsHeader(bytes.subarray(0, 20), "w.safetensors", { fileSize: bytes.length }),
    ).toThrow(/only 20 of its first/);
  });

  it("reports a missing file as an IO error", async () => {
    const path = join(scratch, "missing.safetensors");
    await expect(readSafetensors(path)).rejects.toMatchObject({
      name: "SafetensorsError",
      code: "IO",
      file: path,
      field: "open",
      message: expect.stringMatching(/ENOENT/),
    });
  });
});

describe("reading", () => {
  it("reads only the selected tensors' byte ranges", async () => {
    const path = fixture("tiny-v512-f32", "model.safetensors");
    const everything = (await readSafetensors(path)).tensors;
    const probe = await open(path);
    const prototype = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => unknown };
    await probe.close();
    const read = vi.spyOn(prototype, "read");
    try {
      const { tensors } = await readSafetensors(path, { names: (name) => name.endsWith(".bias") });
      const requested = read.mock.calls.reduce((sum, call) => sum + (call[2] as number), 0);
      const headerLength = Number((await readFile(path)).readBigUInt64LE(0));
      const biasBytes = [...tensors.values()].reduce((sum, entry) => sum + entry.data.byteLength, 0);
      expect(tensors.size).toBe(13); // 6 biases per layer and the final LayerNorm's
      expect(requested).toBe(8 + headerLength + biasBytes);
      for (const [name, entry] of tensors) {
        expect(name.endsWith(".bias")).toBe(true);
        expect(entry).toEqual(everything.get(name));
      }
    } finally {
      read.mockRestore();
    }
  });

  it("reads in chunks and at offsets past 4 GiB (sparse file)", async () => {
    const path = scratchPath("sparse.safetensors");
    const begin = 5 * 2 ** 30 + 3; // unaligned, past 2^32
    const values = Float32Array.of(1, 2, 3, 4, 5);
    const json = `{"far":{"dtype":"F32","shape":[5],"data_offsets":[${begin},${begin + 20}]}}`;
    const header = craft(json).subarray(0, 8 + json.length);
    const handle = await open(path, "w");
    try {
      await handle.truncate(header.length + begin + 20);
      await handle.write(header, 0, header.length, 0);
      await handle.write(bytesOf(values), 0, 20, header.length + begin);
    } finally {
      await handle.close();
    }
    for (const readChunkBytes of [undefined, 3]) {
      const { tensors } = await readSafetensors(path, { readChunkBytes });
      expect(tensors.get("far")!.data).toEqual(values);
    }
    await rm(path);
  });
});

describe("sharded checkpoints", () => {
  async function f32Checkpoint(): Promise<{
    tensors: Map<string, TensorEntry>;
    metadata: Record<string, string>;
  }> {
    return readSafetensors(fixture("tiny-v512-f32", "model.safetensors"));
  }

  it("writes transformers-style shards and index, and reads them back", async () => {
    const dir = scratchPath("sharded");
    const { tensors, metadata } = await f32Checkpoint();
    // 262,144 bytes = embed_out + embed_in exactly: a tensor that just fits stays in the shard.
    const written = await writeShardedSafetensors(dir, tensors, { maxShardBytes: 262_144, metadata });
    const shards = [
      "model-00001-of-00003.safetensors",
      "model-00002-of-00003.safetensors",
      "model-00003-of-00003.safetensors",
    ];
    expect(written.files).toEqual([...shards, "model.safetensors.index.json"]);
    expect((await readdir(dir)).sort()).toEqual([...shards, "model.safetensors.index.json"]);

    const text = await readFile(join(dir, "model.safetensors.index.json"), "utf8");
    expect(
      text.startsWith(
        '{\n  "metadata": {\n    "total_size": 662528\n  },\n  "weight_map": {\n    "embed_out.weight": "model-00001-of-00003.safetensors",\n',
      ),
    ).toBe(true);
    expect(
      text.endsWith(
        '"gpt_neox.layers.1.post_attention_layernorm.weight": "model-00003-of-00003.safetensors"\n  }\n}\n',
      ),
    ).toBe(true);
    const json = JSON.parse(text) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    expect(Object.keys(json.weight_map)).toEqual([...tensors.keys()].sort());
    const perShard = shards.map(
      (shard) => Object.values(json.weight_map).filter((file) => file === shard).length,
    );
    expect(perShard).toEqual([2, 17, 9]);

    const index = await readShardedIndex(dir);
    expect(index).toEqual(written.index);
    expect(index).toMatchObject({ totalSize: 662_528, shards });
    let dataBytes = 0;
    for (const shard of shards) {
      const bytes = await readFile(join(dir, shard));
      const header = parseSafetensorsHeader(bytes, shard);
      expect(header.metadata).toEqual({ format: "pt" });
      dataBytes += header.dataLength;
    }
    expect(dataBytes).toBe(662_528);

    const loaded = await loadCheckpointTensors(dir);
    expect(loaded.files).toEqual(shards.map((shard) => join(dir, shard)));
    expect(loaded.metadata).toEqual({ format: "pt" });
    expectSameTensors(loaded.tensors, tensors);

    const some = await loadCheckpointTensors(dir, { names: (name) => name.includes("layers.1.mlp") });
    expect([...some.tensors.keys()].sort()).toEqual(
      [...tensors.keys()].filter((name) => name.includes("layers.1.mlp")),
    );
  });

  it("writes one model.safetensors when everything fits, and cleans up stale files either way", async () => {
    const dir = scratchPath("resharded");
    const { tensors, metadata } = await f32Checkpoint();
    await writeShardedSafetensors(dir, tensors, { maxShardBytes: 131_072, metadata, dtype: "BF16" });
    expect((await readdir(dir)).sort()).toEqual([
      "model-00001-of-00003.safetensors",
      "model-00002-of-00003.safetensors",
      "model-00003-of-00003.safetensors",
      "model.safetensors.index.json",
    ]);
    const written = await writeShardedSafetensors(dir, tensors, { metadata, dtype: "BF16" });
    expect(written).toEqual({ files: ["model.safetensors"], index: null });
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
    expect(
      (await readFile(join(dir, "model.safetensors"))).equals(
        await readFile(fixture("tiny-v512-bf16", "model.safetensors")),
      ),
    ).toBe(true);
    await writeShardedSafetensors(dir, tensors, { maxShardBytes: 400_000, metadata });
    expect((await readdir(dir)).sort()).toEqual([
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
    ]);
    const loaded = await loadCheckpointTensors(dir);
    expectSameTensors(loaded.tensors, tensors);
  });

  it("loads a single-file checkpoint", async () => {
    const loaded = await loadCheckpointTensors(fixture("pythia-micro"), {
      names: (name) => name === "embed_out.weight",
    });
    expect([...loaded.tensors.keys()]).toEqual(["embed_out.weight"]);
    expect(loaded.files).toEqual([fixture("pythia-micro", "model.safetensors")]);
  });

  async function checkpointError(dir: string): Promise<SafetensorsError> {
    const error = await loadCheckpointTensors(dir).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(SafetensorsError.isInstance(error), String(error)).toBe(true);
    return error as SafetensorsError;
  }

  it("says what to do when the folder has no checkpoint", async () => {
    const dir = scratchPath("empty");
    await mkdir(dir);
    const error = await checkpointError(dir);
    expect(error).toMatchObject({ code: "CHECKPOINT_FORMAT", file: dir, field: "model.safetensors" });
    expect(error.message).toMatch(
      /neither model.safetensors nor model.safetensors.index.json exists; point at a folder/,
    );
    await writeFile(join(dir, "pytorch_model.bin"), "");
    expect((await checkpointError(dir)).message).toMatch(/found pytorch_model.bin, a PyTorch pickle/);
    expect(await checkpointError(join(dir, "nope"))).toMatchObject({ code: "IO", field: "open" });
  });

  async function shardedFixture(
    shards: Record<string, Record<string, TensorEntry>>,
    weightMap: Record<string, string>,
  ): Promise<string> {
    const dir = scratchPath("handmade");
    await mkdir(dir);
    for (const [file, tensors] of Object.entries(shards)) {
      await writeSafetensors(join(dir, file), tensors);
    }
    await writeFile(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    return dir;
  }
  const one: TensorEntry = { dtype: "F32", shape: [1], data: Float32Array.of(1) };

  it("rejects a tensor stored in two shards", async () => {
    const dir = await shardedFixture(
      { "a.safetensors": { x: one }, "b.safetensors": { x: one, y: one } },
      {
        x: "a.safetensors",
        y: "b.safetensors",
      },
    );
    const error = await checkpointError(dir);
    expect(error).toMatchObject({ code: "CHECKPOINT_FORMAT", file: dir, field: 'tensor "x"' });
    expect(error.message).toMatch(/is stored in both "a.safetensors" and "b.safetensors"; /);
  });

  it("rejects an index that disagrees with the shards", async () => {
    const dir = await shardedFixture(
      { "a.safetensors": { x: one }, "b.safetensors": { y: one } },
      {
        x: "b.safetensors",
        y: "b.safetensors",
      },
    );
    const error = await checkpointError(dir);
    expect(error).toMatchObject({ code: "CHECKPOINT_FORMAT", field: 'weight_map["x"]' });
    expect(error.message).toMatch(/shard "b.safetensors" has no tensor "x"/);
  });

  it("rejects missing shards and malformed indexes", async () => {
    const missing = await shardedFixture(
      { "a.safetensors": { x: one } },
      { x: "a.safetensors", y: "gone.safetensors" },
    );
    await expect(readShardedIndex(missing)).rejects.toMatchObject({
      code: "CHECKPOINT_FORMAT",
      file: join(missing, "model.safetensors.index.json"),
      field: 'weight_map["y"]',
      message: expect.stringMatching(/shard "gone.safetensors" does not exist; download every shard/),
    });
    const escaping = await shardedFixture({}, { x: "../a.safetensors" });
    await expect(readShardedIndex(escaping)).rejects.toMatchObject({ field: 'weight_map["x"]' });
    const dir = scratchPath("bad-index");
    await mkdir(dir);
    await writeFile(join(dir, "model.safetensors.index.json"), '{"weight_map": [1]}');
    await expect(readShardedIndex(dir)).rejects.toMatchObject({
      code: "CHECKPOINT_FORMAT",
      field: "weight_map",
    });
    await writeFile(join(dir, "model.safetensors.index.json"), "{");
    await expect(readShardedIndex(dir)).rejects.toMatchObject({ field: "index" });
    await rm(join(dir, "model.safetensors.index.json"));
    expect(await readShardedIndex(dir)).toBeNull();
  });
});

describe("errors", () => {
  it("are recognisable across copies of the package", () => {
    const error = new SafetensorsError({ file: "f", field: "g", what: "broken", fix: "fix it" });
    expect(error.message).toBe("f: g: broken; fix it");
    expect(ModelError.isInstance(error)).toBe(true);
    expect(SafetensorsError.isInstance(error)).toBe(true);
    expect(SafetensorsError.isInstance(new ModelError("IO", "x"))).toBe(false);
    expect(ModelError.isInstance(new Error("x"))).toBe(false);
    expect(error.name).toBe("SafetensorsError");
  });
});
