import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesSource } from "./byte-source.js";
import { unpickle } from "./pickle-machine.js";
import { parseTorchCheckpoint } from "./torch-checkpoint.js";
import { TorchCheckpointError } from "./torch-checkpoint-error.js";
import type { TorchStorageType } from "./torch-globals.js";
import { torchPickleHooks } from "./torch-globals.js";
import { PickleOrderedDict } from "./pickle-writer.js";
import { pickleTorchObject, TorchTensorToSave, writeTorchCheckpoint } from "./torch-save.js";
import { TorchStorage } from "./torch-tensor.js";
import { readZipDirectory } from "./zip-reader.js";
import { legacyCheckpoint } from "../test/helpers.js";

// Fuzzing: whatever the bytes, the readers return or throw a TorchCheckpointError (never a
// RangeError, a TypeError or a hang). PYTHIA_FUZZ_RUNS raises the number of cases.
const RUNS = Number(process.env.PYTHIA_FUZZ_RUNS ?? 1500);

function expectTypedError(error: unknown): void {
  if (!TorchCheckpointError.isInstance(error)) {
    throw error;
  }
}

const hooks = (unknownGlobals: "refuse" | "skip") =>
  torchPickleHooks({
    file: "<fuzz>",
    unknownGlobals,
    storage: (key: string, type: TorchStorageType, numel: number | null, location: string) =>
      new TorchStorage(key, type.dtype, numel ?? 0, location),
  });

const dir = mkdtempSync(join(tmpdir(), "torch-fuzz-"));
let checkpointBytes: Uint8Array;
let legacyLike: Uint8Array;
let legacyFile: Uint8Array;
const statePickle = pickleTorchObject(
  new Map<unknown, unknown>([
    [
      "module",
      new PickleOrderedDict([["w", new TorchTensorToSave("F32", [2, 2], Float32Array.of(1, 2, 3, 4))]]),
    ],
    ["args", new Map([["num_layers", 2]])],
  ]),
).pickle;

beforeAll(async () => {
  const path = join(dir, "small.pt");
  await writeTorchCheckpoint(
    path,
    new PickleOrderedDict([["w", new TorchTensorToSave("F32", [3, 2], Float32Array.of(1, 2, 3, 4, 5, 6))]]),
  );
  checkpointBytes = readFileSync(path);
  legacyLike = new Uint8Array([...statePickle]);
  legacyFile = await legacyCheckpoint([
    ["a", Float32Array.of(1, 2, 3)],
    ["b", Float32Array.of(4, 5)],
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mutations = (length: number) =>
  fc.array(fc.tuple(fc.nat({ max: Math.max(0, length - 1) }), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 8,
  });

function mutate(bytes: Uint8Array, changes: Array<[number, number]>, cut: number | null): Uint8Array {
  const copy = bytes.slice(0, cut === null ? bytes.length : Math.min(cut, bytes.length));
  for (const [at, value] of changes) {
    if (at < copy.length) {
      copy[at] = value;
    }
  }
  return copy;
}

describe("fuzzing the pickle machine", () => {
  it("random bytes give a value or a typed error", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom("refuse" as const, "skip" as const),
        (bytes, mode) => {
          try {
            unpickle(bytes, { ...hooks(mode), file: "<fuzz>" });
          } catch (error) {
            expectTypedError(error);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("opcode soup built from pickle's own opcodes gives a value or a typed error", () => {
    const opcode = fc.constantFrom(
      ...[
        0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x29, 0x85, 0x86, 0x87, 0x74, 0x5d, 0x6c, 0x7d, 0x64,
        0x61, 0x65, 0x73, 0x75, 0x52, 0x81, 0x62, 0x51, 0x8f, 0x90, 0x91, 0x94, 0x93,
      ].map((code) => [code]),
      [0x4b, 7],
      [0x71, 0],
      [0x68, 0],
      [0x8a, 2, 0xff, 0x7f],
      [0x58, 1, 0, 0, 0, 0x61],
      [0x8c, 5, ...new TextEncoder().encode("torch")],
      [0x8c, 11, ...new TextEncoder().encode("FloatStorag")],
      [...new TextEncoder().encode("ctorch._utils\n_rebuild_tensor_v2\n")],
      [...new TextEncoder().encode("ctorch\nFloatStorage\n")],
      [...new TextEncoder().encode("ccollections\nOrderedDict\n")],
      [...new TextEncoder().encode("csome.module\nThing\n")],
      [...new TextEncoder().encode("X\x07\x00\x00\x00storage")],
    );
    fc.assert(
      fc.property(
        fc.array(opcode, { maxLength: 60 }),
        fc.constantFrom("refuse" as const, "skip" as const),
        (parts, mode) => {
          const bytes = Uint8Array.from([0x80, 2, ...parts.flat(), 0x2e]);
          try {
            unpickle(bytes, { ...hooks(mode), file: "<fuzz>" });
          } catch (error) {
            expectTypedError(error);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("mutated and truncated torch pickles give a value or a typed error", () => {
    fc.assert(
      fc.property(
        mutations(legacyLike.length),
        fc.option(fc.nat({ max: legacyLike.length })),
        (changes, cut) => {
          try {
            unpickle(mutate(legacyLike, changes, cut), { ...hooks("skip"), file: "<fuzz>" });
          } catch (error) {
            expectTypedError(error);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("fuzzing the zip and torch readers", () => {
  it("random bytes are rejected with a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        await expect(parseTorchCheckpoint(bytes)).rejects.toSatisfy((error: unknown) =>
          TorchCheckpointError.isInstance(error),
        );
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it("mutated and truncated checkpoints read or fail with a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(
        mutations(checkpointBytes.length),
        fc.option(fc.nat({ max: checkpointBytes.length })),
        async (changes, cut) => {
          const bytes = mutate(checkpointBytes, changes, cut);
          try {
            await readZipDirectory(bytesSource(bytes));
            const checkpoint = await parseTorchCheckpoint(bytes);
            for (const tensor of checkpoint.tensors().values()) {
              await checkpoint.read(tensor, { toFloat32: true });
            }
          } catch (error) {
            expectTypedError(error);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("mutated and truncated legacy-format files read or fail with a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(
        mutations(legacyFile.length),
        fc.option(fc.nat({ max: legacyFile.length })),
        async (changes, cut) => {
          try {
            const checkpoint = await parseTorchCheckpoint(mutate(legacyFile, changes, cut));
            for (const tensor of checkpoint.tensors().values()) {
              await checkpoint.read(tensor, { toFloat32: true });
            }
          } catch (error) {
            expectTypedError(error);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("mutations inside the central directory and the end record read or fail with a typed error", async () => {
    const tailStart = checkpointBytes.length - 400;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.integer({ min: tailStart, max: checkpointBytes.length - 1 }),
            fc.integer({ min: 0, max: 255 }),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        async (changes) => {
          try {
            const checkpoint = await parseTorchCheckpoint(mutate(checkpointBytes, changes, null));
            for (const tensor of checkpoint.tensors().values()) {
              await checkpoint.read(tensor);
            }
          } catch (error) {
            expectTypedError(error);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
