// Corrupted files must give typed errors naming the file, the field and the offset: never a crash,
// a hang or garbage.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataloaderError, DatasetFormatError, IndexedDataset } from "./index.js";
import { fixturePath } from "../test/helpers.js";

const idx = readFileSync(fixturePath("random_text_document.idx"));
const bin = readFileSync(fixturePath("random_text_document.bin"));
const items = 200;

/** Writes a copy of the fixture pair with `mutate` applied, returns its prefix. */
function corrupted(mutate: (files: { idx: Buffer; bin: Buffer }) => { idx: Buffer; bin: Buffer }): string {
  const dir = mkdtempSync(join(tmpdir(), "pythia-corrupt-"));
  const files = mutate({ idx: Buffer.from(idx), bin: Buffer.from(bin) });
  writeFileSync(join(dir, "d.idx"), files.idx);
  writeFileSync(join(dir, "d.bin"), files.bin);
  return join(dir, "d");
}

function openError(prefix: string): DatasetFormatError {
  try {
    IndexedDataset.open(prefix).close();
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetFormatError);
    return error as DatasetFormatError;
  }
  throw new Error("expected IndexedDataset.open to throw");
}

const cases: Array<
  [string, (files: { idx: Buffer; bin: Buffer }) => { idx: Buffer; bin: Buffer }, string, string, RegExp]
> = [
  ["wrong magic", (f) => (f.idx.write("XXXX", 0), f), "d.idx", "magic", /not a GPT-NeoX \.idx file/],
  [
    "legacy cached magic",
    (f) => (Buffer.from("TNTIDX\0\0").copy(f.idx, 0), f),
    "d.idx",
    "magic",
    /legacy "cached"/,
  ],
  ["unknown version", (f) => (f.idx.writeBigUInt64LE(2n, 9), f), "d.idx", "version", /is 2; only version 1/],
  ["unknown dtype code", (f) => (f.idx.writeUInt8(9, 17), f), "d.idx", "dtype", /unknown dtype code 9/],
  [
    "header truncated",
    (f) => ({ idx: f.idx.subarray(0, 20), bin: f.bin }),
    "d.idx",
    "header",
    /fewer than the 34-byte header/,
  ],
  [
    "sizes truncated",
    (f) => ({ idx: f.idx.subarray(0, 34 + 100), bin: f.bin }),
    "d.idx",
    "sizes",
    /truncated/,
  ],
  [
    "doc_idx truncated",
    (f) => ({ idx: f.idx.subarray(0, f.idx.length - 4), bin: f.bin }),
    "d.idx",
    "doc_idx",
    /truncated/,
  ],
  [
    "trailing bytes in .idx",
    (f) => ({ idx: Buffer.concat([f.idx, Buffer.alloc(3)]), bin: f.bin }),
    "d.idx",
    "length",
    /trailing data/,
  ],
  ["absurd item count", (f) => (f.idx.writeBigUInt64LE(2n ** 62n, 18), f), "d.idx", "len", /corrupt header/],
  ["negative size", (f) => (f.idx.writeInt32LE(-5, 34 + 4 * 7), f), "d.idx", "sizes[7]", /negative size -5/],
  [
    "pointer off by one element",
    (f) => (
      f.idx.writeBigInt64LE(f.idx.readBigInt64LE(34 + 4 * items + 8 * 10) + 2n, 34 + 4 * items + 8 * 10),
      f
    ),
    "d.idx",
    "pointers[10]",
    /does not belong to this \.bin or is corrupt/,
  ],
  [
    "negative pointer",
    (f) => (f.idx.writeBigInt64LE(-8n, 34 + 4 * items + 8 * 3), f),
    "d.idx",
    "pointers[3]",
    /outside \[0, 2\^53\)/,
  ],
  [
    "decreasing doc_idx",
    (f) => (f.idx.writeBigInt64LE(0n, 34 + 12 * items + 8 * 5), f),
    "d.idx",
    "doc_idx[5]",
    /must start at 0 and not decrease/,
  ],
  [
    "truncated .bin",
    (f) => ({ idx: f.idx, bin: f.bin.subarray(0, f.bin.length - 10) }),
    "d.bin",
    "length",
    /the \.bin is truncated/,
  ],
  [
    "trailing bytes in .bin",
    (f) => ({ idx: f.idx, bin: Buffer.concat([f.bin, Buffer.alloc(2)]) }),
    "d.bin",
    "length",
    /trailing data/,
  ],
];

describe("IndexedDataset.open on corrupted files", () => {
  it.each(cases)("%s", (_name, mutate, file, field, message) => {
    const error = openError(corrupted(mutate));
    expect(error.file.endsWith(file)).toBe(true);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(file);
    expect(DataloaderError.isInstance(error)).toBe(true);
  });

  it("reports the byte offset of the bad field", () => {
    expect(openError(corrupted((f) => (f.idx.writeUInt8(0, 17), f))).offset).toBe(17);
    expect(openError(corrupted((f) => (f.idx.writeInt32LE(-1, 34 + 4 * 7), f))).offset).toBe(34 + 28);
  });

  it("a missing .bin or .idx names the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-missing-"));
    expect(() => IndexedDataset.open(join(dir, "nothing"))).toThrow(/cannot open .*nothing\.idx \(ENOENT\)/);
    copyFileSync(fixturePath("random_text_document.idx"), join(dir, "half.idx"));
    expect(() => IndexedDataset.open(join(dir, "half"))).toThrow(
      /cannot open .*half\.bin \(ENOENT\).*needs both/,
    );
  });

  it("a directory named like a .bin or .idx is refused up front, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-dir-"));
    mkdirSync(join(dir, "both.idx"));
    mkdirSync(join(dir, "both.bin"));
    expect(() => IndexedDataset.open(join(dir, "both"))).toThrow(
      `${join(dir, "both.idx")}: is a directory, not a file; pass the dataset prefix (P for the files P.bin and P.idx)`,
    );
    // Only the .bin is a directory: refused before its size (the directory's) is compared with the .idx.
    copyFileSync(fixturePath("random_text_document.idx"), join(dir, "half.idx"));
    mkdirSync(join(dir, "half.bin"));
    const error = (() => {
      try {
        IndexedDataset.open(join(dir, "half"));
      } catch (caught) {
        return caught as DataloaderError;
      }
      throw new Error("opened a dataset whose .bin is a directory");
    })();
    expect(error.message).toBe(
      `${join(dir, "half.bin")}: is a directory, not a file; pass the dataset prefix (P for the files P.bin and P.idx)`,
    );
    expect(DataloaderError.isInstance(error) && error.code).toBe("DATASET_IO");
  });

  it("a file truncated after opening fails the read instead of returning garbage", () => {
    const prefix = corrupted((f) => f);
    const dataset = IndexedDataset.open(prefix);
    writeFileSync(`${prefix}.bin`, bin.subarray(0, 100));
    expect(() => dataset.get(199)).toThrow(/unexpected end of file/);
    dataset.close();
    expect(() => dataset.get(0)).toThrow(/was closed/);
  });
});
