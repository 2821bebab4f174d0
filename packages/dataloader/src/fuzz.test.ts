import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, it } from "vitest";
import { DataloaderError, IndexedDataset, IndexedDatasetBuilder, readNpy, writeNpy } from "./index.js";

// Fuzzing: whatever the bytes of a `.idx` or `.npy`, the readers return or throw a DataloaderError
// (never a RangeError, a TypeError or an abort). PYTHIA_FUZZ_RUNS raises the number of cases
// (`pnpm --filter @pythia/dataloader test:fuzz`).
const RUNS = Number(process.env.PYTHIA_FUZZ_RUNS ?? 2000);
/** Per-test time limit: a case takes well under 10 ms, so a hang still fails. */
const TIMEOUT = Math.max(60_000, RUNS * 10);

const dir = mkdtempSync(join(tmpdir(), "pythia-dataloader-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectTypedError(error: unknown): void {
  if (!DataloaderError.isInstance(error)) {
    throw error;
  }
}

/** A mutation of valid bytes: flipped bytes, a truncation or an extension, or random 64-bit fields. */
const mutation = (valid: Uint8Array) =>
  fc.oneof(
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
    fc.nat(valid.length + 16).map((length) => {
      const bytes = new Uint8Array(length);
      bytes.set(valid.subarray(0, Math.min(length, valid.length)));
      return bytes;
    }),
    fc
      .tuple(
        fc.constantFrom(9, 17, 18, 26, 34, 38, 42),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      )
      .map(([at, value]) => {
        const bytes = valid.slice();
        if (at + 8 <= bytes.length) {
          new DataView(bytes.buffer).setBigInt64(at, value, true);
        }
        return bytes;
      }),
    fc.uint8Array({ maxLength: 80 }),
  );

describe("fuzz: the dataset readers throw only DataloaderError", () => {
  it(
    ".idx (with a valid .bin)",
    () => {
      const prefix = join(dir, "valid");
      const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
      for (const document of [[1, 2, 3], [4], [5, 6, 7, 8, 0]]) {
        builder.addItem(document);
        builder.endDocument();
      }
      builder.finalize();
      const idx = new Uint8Array(readFileSync(`${prefix}.idx`));
      const bin = readFileSync(`${prefix}.bin`);
      const fuzzed = join(dir, "fuzzed");
      writeFileSync(`${fuzzed}.bin`, bin);
      fc.assert(
        fc.property(mutation(idx), fc.boolean(), (bytes, validate) => {
          writeFileSync(`${fuzzed}.idx`, bytes);
          let dataset: IndexedDataset | undefined;
          try {
            dataset = IndexedDataset.open(fuzzed, { validate });
            for (let i = 0; i < Math.min(dataset.length, 4); i++) {
              dataset.get(i);
            }
            dataset.checkVocab(50304);
          } catch (error) {
            expectTypedError(error);
          } finally {
            dataset?.close();
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    ".npy",
    () => {
      const path = join(dir, "valid.npy");
      writeNpy(path, { dtype: "<i4", shape: [2, 3], data: Int32Array.of(1, 2, 3, 4, 5, 6) });
      const valid = new Uint8Array(readFileSync(path));
      const header = new TextDecoder().decode(valid.subarray(10, valid.length - 24));
      const fuzzed = join(dir, "fuzzed.npy");
      // Also headers with arbitrary text in place of the dict (same length, so the data offset stays).
      const headerText = fc
        .string({ minLength: header.length, maxLength: header.length, unit: "binary-ascii" })
        .map((text) => {
          const bytes = valid.slice();
          bytes.set(new TextEncoder().encode(text), 10);
          return bytes;
        });
      fc.assert(
        fc.property(fc.oneof(mutation(valid), headerText), (bytes) => {
          writeFileSync(fuzzed, bytes);
          try {
            readNpy(fuzzed);
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
