import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, it } from "vitest";
import { ModelError } from "./model-errors.js";
import { parseSafetensorsHeader, readSafetensors, serializeSafetensors } from "./safetensors.js";

// Fuzzing: whatever the bytes of a safetensors file, the header parser and the file reader return or
// throw a ModelError (never a RangeError, a TypeError or an abort), and every value they return is
// within the file. PYTHIA_FUZZ_RUNS raises the number of cases (`pnpm --filter @pythia/model test:fuzz`).
const RUNS = Number(process.env.PYTHIA_FUZZ_RUNS ?? 2000);
/** Per-test time limit: a case takes well under 10 ms, so a hang still fails. */
const TIMEOUT = Math.max(60_000, RUNS * 10);

const dir = mkdtempSync(join(tmpdir(), "pythia-model-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectTypedError(error: unknown): void {
  if (!ModelError.isInstance(error)) {
    throw error;
  }
}

/** A small valid file: three dtypes, a scalar, an empty tensor and metadata. */
const valid = serializeSafetensors(
  new Map([
    ["a.weight", { dtype: "F32" as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ["b", { dtype: "F16" as const, shape: [], data: Uint16Array.from([0x3c00]) }],
    ["c", { dtype: "I64" as const, shape: [0, 4], data: new BigInt64Array(0) }],
  ]),
  { metadata: { format: "pt" } },
);

/** Flipped bytes, a truncation or an extension, a random header length, or random bytes. */
const mutatedFile = fc.oneof(
  fc
    .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 6,
    })
    .map((flips) => {
      const bytes = valid.slice();
      for (const [at, value] of flips) {
        bytes[at] = value;
      }
      return bytes;
    }),
  fc.nat(valid.length + 32).map((length) => {
    const bytes = new Uint8Array(length);
    bytes.set(valid.subarray(0, Math.min(length, valid.length)));
    return bytes;
  }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((length) => {
    const bytes = valid.slice();
    new DataView(bytes.buffer).setBigUint64(0, length, true);
    return bytes;
  }),
  fc.uint8Array({ maxLength: 96 }),
);

const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const DTYPES = Object.keys(DTYPE_BYTES) as Array<keyof typeof DTYPE_BYTES>;

/** 8 bytes of header length, the header's JSON, then `bodyLength` bytes. */
function fileOf(header: unknown, bodyLength: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + Math.max(0, bodyLength));
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  return bytes;
}

/**
 * A valid header (tensors laid end to end) with up to three small perturbations: an offset, a
 * dimension or a dtype moved, and a body a few bytes off. Most cases sit just beside valid files.
 */
const nearValidFile = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom(...DTYPES), fc.array(fc.nat(4), { maxLength: 3 })), { maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(15), fc.integer({ min: -9, max: 9 })), { maxLength: 3 }),
    fc.integer({ min: -8, max: 8 }),
  )
  .map(([tensors, perturbations, bodyDelta]) => {
    let offset = 0;
    const entries = tensors.map(([dtype, shape]) => {
      const begin = offset;
      offset += shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
      return { dtype: dtype as string, shape: [...shape], data_offsets: [begin, offset] };
    });
    for (const [target, delta] of perturbations) {
      const tensor = entries[Math.floor(target / 4) % Math.max(1, entries.length)];
      if (tensor === undefined) {
        break;
      }
      if (target % 4 === 0) {
        tensor.data_offsets[0]! += delta;
      } else if (target % 4 === 1) {
        tensor.data_offsets[1]! += delta;
      } else if (target % 4 === 2) {
        tensor.shape =
          tensor.shape.length === 0 ? [delta] : [tensor.shape[0]! + delta, ...tensor.shape.slice(1)];
      } else {
        tensor.dtype = DTYPES[(DTYPES.indexOf(tensor.dtype as never) + 10 + delta) % 10]!;
      }
    }
    const header = Object.fromEntries(entries.map((entry, i) => [`t${i}`, entry]));
    return fileOf(header, offset + (bodyDelta % 3 === 0 ? bodyDelta : 0));
  });

/** A header of random, mostly malformed entries (wrong types, huge or fractional numbers). */
const entry = fc.oneof(
  fc.record({
    dtype: fc.constantFrom(...DTYPES, "X9", ""),
    shape: fc.array(fc.oneof(fc.nat(8), fc.integer(), fc.double(), fc.constant(2 ** 53)), { maxLength: 4 }),
    data_offsets: fc.array(fc.oneof(fc.nat(256), fc.integer(), fc.double()), { maxLength: 3 }),
  }),
  fc.jsonValue(),
);
const craftedFile = fc
  .tuple(fc.dictionary(fc.string({ maxLength: 8 }), entry, { maxKeys: 4 }), fc.nat(256))
  .map(([header, bodyLength]) => fileOf(header, bodyLength));

/** Every tensor a successful read returns holds exactly the elements its shape says. */
function checkContents(tensors: Map<string, { shape: number[]; data: { length: number } }>): void {
  for (const [name, tensor] of tensors) {
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (tensor.data.length !== count) {
      throw new Error(`${name}: ${tensor.data.length} elements for shape ${JSON.stringify(tensor.shape)}`);
    }
  }
}

describe("fuzz: the safetensors readers throw only ModelError", () => {
  it.each([
    ["mutated valid files", mutatedFile],
    ["headers beside valid ones", nearValidFile],
    ["random headers", craftedFile],
  ] as const)(
    "parseSafetensorsHeader on %s",
    (_, files) => {
      fc.assert(
        fc.property(files, (bytes) => {
          try {
            const header = parseSafetensorsHeader(bytes, "fuzz.safetensors");
            for (const [
              name,
              {
                dataOffsets: [begin, end],
              },
            ] of header.tensors) {
              if (begin > end || header.dataStart + end > bytes.length) {
                throw new Error(`${name}: [${begin}, ${end}) is outside the data section`);
              }
            }
          } catch (error) {
            expectTypedError(error);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it.each([
    ["mutated valid files", mutatedFile],
    ["headers beside valid ones", nearValidFile],
    ["random headers", craftedFile],
  ] as const)(
    "readSafetensors on %s",
    async (_, files) => {
      const path = join(dir, "fuzz.safetensors");
      await fc.assert(
        fc.asyncProperty(files, fc.boolean(), async (bytes, toFloat32) => {
          writeFileSync(path, bytes);
          try {
            checkContents((await readSafetensors(path, { toFloat32 })).tensors);
          } catch (error) {
            expectTypedError(error);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
