import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataloaderError, DatasetFormatError, npyHeader, readNpy, writeNpy, type NpyArray } from "./index.js";
import { fixturePath, temporaryDirectories, values } from "../test/helpers.js";

const FIXTURE_NPY = [
  "gpt2-seq32-seed1234-one-epoch/random_text_document_train_indexmap_512ns_32sl_1234s_doc_idx.npy",
  "gpt2-seq32-seed1234-one-epoch/random_text_document_train_indexmap_512ns_32sl_1234s_sample_idx.npy",
  "gpt2-seq32-seed1234-one-epoch/random_text_document_train_indexmap_512ns_32sl_1234s_shuffle_idx.npy",
  "gpt2-seq32-seed1234-multi-epoch/random_text_document_train_indexmap_2035ns_32sl_1234s_doc_idx.npy",
  "gpt2-seq32-seed1234-multi-epoch/random_text_document_train_indexmap_2035ns_32sl_1234s_sample_idx.npy",
  "gpt2-seq32-seed1234-multi-epoch/random_text_document_train_indexmap_2035ns_32sl_1234s_shuffle_idx.npy",
  "worked-example/example_text_document_train_indexmap_12ns_4sl_1234s_doc_idx.npy",
  "worked-example/example_text_document_train_indexmap_12ns_4sl_1234s_sample_idx.npy",
  "worked-example/example_text_document_train_indexmap_12ns_4sl_1234s_shuffle_idx.npy",
];

const temporaryDirectory = temporaryDirectories("npy");

/** Writes `bytes` to a fresh file and returns its path. */
function fileWith(bytes: Uint8Array | string): string {
  const path = join(temporaryDirectory(), "x.npy");
  writeFileSync(path, bytes);
  return path;
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("readNpy / writeNpy on the GPT-NeoX fixture files (numpy 1.24.2 np.save)", () => {
  it.each(FIXTURE_NPY)("%s: read then write gives identical bytes", (name) => {
    const source = fixturePath(name);
    const array = readNpy(source);
    const out = join(temporaryDirectory(), basename(name));
    writeNpy(out, array);
    expect(readFileSync(out)).toEqual(readFileSync(source));
  });

  it("reads dtype, shape and values", () => {
    const sample = readNpy(fixturePath(FIXTURE_NPY[7]!));
    expect(sample.dtype).toBe("<i4");
    expect(sample.shape).toEqual([13, 2]);
    expect(values(sample.data)).toEqual(
      [
        [0, 0],
        [0, 4],
        [1, 1],
        [1, 5],
        [2, 2],
        [2, 6],
        [3, 1],
        [4, 2],
        [5, 1],
        [6, 3],
        [6, 7],
        [7, 2],
        [8, 1],
      ].flat(),
    );
    const shuffle = readNpy(fixturePath(FIXTURE_NPY[8]!));
    expect(shuffle.dtype).toBe("<u4");
    expect(shuffle.data).toBeInstanceOf(Uint32Array);
    expect(values(shuffle.data)).toEqual([3, 11, 2, 1, 7, 5, 4, 0, 8, 6, 10, 9]);
  });
});

describe("npyHeader", () => {
  it("spells the header dict like numpy 1.24 and aligns the data to 64 bytes", () => {
    const text = (shape: number[]): string =>
      new TextDecoder("latin1").decode(npyHeader({ dtype: "<i4", shape }).subarray(10));
    expect(text([980, 2]).startsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (980, 2), }")).toBe(
      true,
    );
    expect(text([600]).startsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (600,), }")).toBe(true);
    expect(text([]).startsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (), }")).toBe(true);
    for (const shape of [[0], [1], [600], [147164160], [162164736, 2], [2 ** 40], [3, 4, 5]]) {
      const bytes = npyHeader({ dtype: "|u1", shape });
      expect(bytes.length % 64).toBe(0);
      expect(bytes[bytes.length - 1]).toBe(0x0a);
      expect(bytes[8]! + 256 * bytes[9]!).toBe(bytes.length - 10);
    }
  });

  it("leaves numpy's growth room: 21 digits for the first axis", () => {
    // numpy ≥ 1.23 appends 21 - len(repr(shape[0])) spaces before aligning, so a 42-digit axis pushes
    // the header past 128 bytes while (1,) stays at 128.
    expect(npyHeader({ dtype: "<f8", shape: [1] }).length).toBe(128);
    expect(npyHeader({ dtype: "<f8", shape: [1, 10 ** 15, 10 ** 15, 10 ** 15] }).length).toBe(192);
  });
});

describe("writeNpy", () => {
  const cases: NpyArray[] = [
    { dtype: "<i4", shape: [3], data: Int32Array.from([-1, 0, 2 ** 31 - 1]) },
    { dtype: "<u4", shape: [2, 2], data: Uint32Array.from([0, 1, 2 ** 32 - 1, 7]) },
    { dtype: "<i8", shape: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 40n]) },
    { dtype: "<u2", shape: [2, 3], data: Uint16Array.from([0, 1, 2, 3, 4, 65535]) },
    { dtype: "<f4", shape: [2], data: Float32Array.from([0.5, -Infinity]) },
    { dtype: "<f8", shape: [1, 2], data: Float64Array.from([Math.PI, -0]) },
    { dtype: "|u1", shape: [0], data: new Uint8Array(0) },
  ];

  it.each(cases)("round-trips $dtype $shape", (array) => {
    const path = join(temporaryDirectory(), "a.npy");
    writeNpy(path, array);
    const back = readNpy(path);
    expect(back.dtype).toBe(array.dtype);
    expect(back.shape).toEqual(array.shape);
    expect(back.data).toEqual(array.data);
  });

  it("round-trips random int32 matrices", () => {
    const directory = temporaryDirectory();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 200, maxLength: 200 }),
        (rows, columns, values) => {
          const data = Int32Array.from(values.slice(0, rows * columns));
          const path = join(directory, "p.npy");
          writeNpy(path, { dtype: "<i4", shape: [rows, columns], data });
          const back = readNpy(path);
          expect(back.shape).toEqual([rows, columns]);
          expect(back.data).toEqual(data);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("writes atomically: no temporary file is left behind, and a failed write leaves nothing", () => {
    const directory = temporaryDirectory();
    writeNpy(join(directory, "ok.npy"), cases[0]!);
    expect(readdirSync(directory)).toEqual(["ok.npy"]);
    expect(() =>
      writeNpy(join(directory, "bad.npy"), { dtype: "<i4", shape: [4], data: new Int32Array(3) }),
    ).toThrow(/4 elements but data has 3/);
    expect(readdirSync(directory)).toEqual(["ok.npy"]);
  });

  it("rejects data of the wrong typed array", () => {
    const wrong = { dtype: "<u4", shape: [1], data: new Int32Array(1) } as unknown as NpyArray;
    expect(() => writeNpy(join(temporaryDirectory(), "w.npy"), wrong)).toThrow(/Uint32Array/);
  });
});

describe("readNpy errors", () => {
  const good = readFileSync(fixturePath(FIXTURE_NPY[8]!));

  function withHeader(dict: string): Uint8Array {
    const text = `${dict}`.padEnd(117, " ") + "\n";
    const prefix = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0]);
    return Buffer.concat([prefix, Buffer.from(text, "latin1"), Buffer.alloc(48)]);
  }

  it.each([
    ["magic", Buffer.from("not a numpy file at all")],
    ["magic", good.subarray(0, 5)],
    ["version", Buffer.concat([good.subarray(0, 6), Buffer.from([9, 0]), good.subarray(8)])],
    ["header", good.subarray(0, 100)],
    ["data", good.subarray(0, good.length - 1)],
    ["data", Buffer.concat([good, Buffer.alloc(4)])],
    ["descr", withHeader("{'descr': '>i4', 'fortran_order': False, 'shape': (12,), }")],
    ["fortran_order", withHeader("{'descr': '<i4', 'fortran_order': True, 'shape': (12,), }")],
    ["shape", withHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (-1,), }")],
    ["header", withHeader("{'descr': '<i4', 'shape': (12,), }")],
    ["header", withHeader("[1, 2]")],
  ])("names the field %s", (field, bytes) => {
    const path = fileWith(bytes);
    const error = catchError(() => readNpy(path));
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as DatasetFormatError).code).toBe("NPY_FORMAT");
    expect((error as DatasetFormatError).file).toBe(path);
    expect((error as DatasetFormatError).field).toBe(field);
    expect((error as Error).message).toContain(path);
  });

  it("reads headers numpy accepts but does not write (other key order, double quotes, 2.0)", () => {
    const reordered = fileWith(withHeader('{"shape": (3, 4), "fortran_order": False, "descr": "<u4"}'));
    const array = readNpy(reordered);
    expect(array.dtype).toBe("<u4");
    expect(array.shape).toEqual([3, 4]);
    const v2 = Buffer.concat([
      Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 116, 0, 0, 0]),
      Buffer.from("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }".padEnd(115) + "\n"),
      Uint8Array.from([1, 2, 3, 4, 5]),
    ]);
    const small = readNpy(fileWith(v2));
    expect(small.dtype).toBe("|u1");
    expect(values(small.data)).toEqual([1, 2, 3, 4, 5]);
  });

  it("throws a DataloaderError for a missing file", () => {
    const error = catchError(() => readNpy(join(temporaryDirectory(), "missing.npy")));
    expect(DataloaderError.isInstance(error)).toBe(true);
    expect((error as DataloaderError).code).toBe("DATASET_IO");
  });
});
