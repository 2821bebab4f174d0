import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildIndexMaps,
  DatasetFormatError,
  GPT2Dataset,
  IndexedDataset,
  IndexedDatasetBuilder,
  indexMapFilenames,
  loadOrBuildIndexMaps,
  planIndexMaps,
  readNpy,
  type IndexMaps,
} from "./index.js";
import { fixturePath, readJsonFixture, temporaryDirectories, values } from "../test/helpers.js";

interface CaseInfo {
  seq_length: number;
  seed: number;
  num_samples: number;
  name: string;
  num_docs: number;
  tokens_per_epoch: number;
  num_epochs: number;
  doc_idx_len: number;
  sample_idx_rows: number;
  shuffle_idx_len: number;
  dataset_len: number;
  index_files: [string, string, string];
}

interface SamplesFile {
  seq_length: number;
  dataset_len: number;
  samples: number[][];
}

/** The three GPT-NeoX reference cases of test/fixtures (NEOX-FIXTURES.md). */
const CASES = [
  { folder: "gpt2-seq32-seed1234-one-epoch", prefix: "random_text_document" },
  { folder: "gpt2-seq32-seed1234-multi-epoch", prefix: "random_text_document" },
  { folder: "worked-example", prefix: "worked-example/example_text_document" },
].map(({ folder, prefix }) => ({
  folder,
  prefix: fixturePath(prefix),
  info: readJsonFixture<CaseInfo>(`${folder}/info.json`),
  expected: readJsonFixture<SamplesFile>(`${folder}/samples.json`),
}));

const opened: IndexedDataset[] = [];
afterAll(() => {
  for (const dataset of opened) {
    dataset.close();
  }
});

function open(prefix: string): IndexedDataset {
  const dataset = IndexedDataset.open(prefix);
  opened.push(dataset);
  return dataset;
}

const temporaryDirectory = temporaryDirectories("gpt2");

function readFixtureMaps(folder: string, files: readonly string[]) {
  const [doc, sample, shuffle] = files.map((file) => readNpy(fixturePath(`${folder}/${file}`)));
  return { doc: doc!, sample: sample!, shuffle: shuffle! };
}

describe.each(CASES)("GPT2Dataset case $folder", ({ folder, prefix, info, expected }) => {
  const dataset = open(prefix);
  const params = {
    sizes: dataset.sizes,
    numSamples: info.num_samples,
    seqLength: info.seq_length,
    seed: info.seed,
  };
  const maps = buildIndexMaps(params);

  it("builds doc_idx, sample_idx and shuffle_idx equal to the reference .npy files", () => {
    const reference = readFixtureMaps(folder, info.index_files);
    expect(maps.numEpochs).toBe(info.num_epochs);
    expect(maps.tokensPerEpoch).toBe(info.tokens_per_epoch);
    expect(reference.doc.dtype).toBe("<i4");
    expect(reference.sample.dtype).toBe("<i4");
    expect(reference.shuffle.dtype).toBe("<u4");
    expect(maps.docIdx).toEqual(reference.doc.data);
    expect(maps.sampleIdx).toEqual(reference.sample.data);
    expect(maps.shuffleIdx).toEqual(reference.shuffle.data);
    expect([maps.docIdx.length, maps.sampleIdx.length / 2, maps.shuffleIdx.length]).toEqual([
      info.doc_idx_len,
      info.sample_idx_rows,
      info.shuffle_idx_len,
    ]);
  });

  it("serves exactly the reference samples, S - 1 of them", () => {
    const gpt2 = new GPT2Dataset({ dataset, indexMaps: maps });
    expect(gpt2.length).toBe(info.dataset_len);
    expect(gpt2.length).toBe(expected.dataset_len);
    expect(expected.samples).toHaveLength(info.dataset_len);
    const width = info.seq_length + 1;
    const batch = gpt2.samples(0, gpt2.length);
    const mismatches: number[] = [];
    expected.samples.forEach((tokens, i) => {
      const row = batch.subarray(i * width, (i + 1) * width);
      if (tokens.length !== width || tokens.some((token, k) => row[k] !== token)) {
        mismatches.push(i);
      }
    });
    expect(mismatches).toEqual([]);
    // sample(i) alone gives the same rows as the batch.
    for (const i of [0, 1, Math.floor(gpt2.length / 2), gpt2.length - 1]) {
      expect(Array.from(gpt2.sample(i))).toEqual(expected.samples[i]);
    }
    expect(() => gpt2.sample(gpt2.length)).toThrow(/out of range/);
    expect(() => gpt2.sample(-1)).toThrow(/out of range/);
  });

  it("loadOrBuildIndexMaps writes files byte-identical to the reference, then loads them", () => {
    const cacheDir = temporaryDirectory();
    const built = loadOrBuildIndexMaps({ ...params, prefix, cacheDir });
    expect(built.fromCache).toBe(false);
    expect(readdirSync(cacheDir).sort()).toEqual([...info.index_files].sort());
    for (const file of info.index_files) {
      expect(readFileSync(join(cacheDir, file)), file).toEqual(
        readFileSync(fixturePath(`${folder}/${file}`)),
      );
    }
    const loaded = loadOrBuildIndexMaps({ ...params, prefix, cacheDir });
    expect(loaded.fromCache).toBe(true);
    expect(loaded.docIdx).toEqual(maps.docIdx);
    expect(loaded.sampleIdx).toEqual(maps.sampleIdx);
    expect(loaded.shuffleIdx).toEqual(maps.shuffleIdx);
    expect(loaded.numEpochs).toBe(info.num_epochs);
  });

  it("loads the reference's own cache files", () => {
    const loaded = loadOrBuildIndexMaps({ ...params, prefix, cacheDir: fixturePath(folder) });
    expect(loaded.fromCache).toBe(true);
    expect(basename(loaded.files.shuffleIdx)).toBe(info.index_files[2]);
    expect(loaded.shuffleIdx).toEqual(maps.shuffleIdx);
  });
});

describe("GPT2Dataset.open", () => {
  it("opens the worked example and serves the hand-worked samples (pythia-reference.md §2.9)", () => {
    const [, , worked] = CASES;
    const cacheDir = temporaryDirectory();
    const gpt2 = GPT2Dataset.open({
      prefix: worked!.prefix,
      numSamples: 12,
      seqLength: 4,
      seed: 1234,
      cacheDir,
    });
    try {
      expect(gpt2.length).toBe(11);
      expect(Array.from(gpt2.docIdx)).toEqual([2, 2, 4, 1, 0, 3, 4, 0, 1, 3]);
      expect(values(gpt2.shuffleIdx)).toEqual([3, 11, 2, 1, 7, 5, 4, 0, 8, 6, 10, 9]);
      expect(Array.from(gpt2.sample(0))).toEqual([205, 206, 400, 401, 402]);
      expect(Array.from(gpt2.sample(10))).toEqual([407, 408, 0, 1, 2]);
      expect(Array.from(gpt2.samples(1, 2))).toEqual([2, 3, 4, 100, 101, 201, 202, 203, 204, 205]);
    } finally {
      gpt2.close();
    }
  });

  it("uses GPT-NeoX's cache file names, next to the prefix by default", () => {
    expect(
      indexMapFilenames({
        prefix: "/data/pile_20B_tokenizer_text_document",
        name: "train_0",
        numSamples: 147164160,
        seqLength: 2048,
        seed: 1234,
      }),
    ).toEqual({
      docIdx: "/data/pile_20B_tokenizer_text_document_train_0_indexmap_147164160ns_2048sl_1234s_doc_idx.npy",
      sampleIdx:
        "/data/pile_20B_tokenizer_text_document_train_0_indexmap_147164160ns_2048sl_1234s_sample_idx.npy",
      shuffleIdx:
        "/data/pile_20B_tokenizer_text_document_train_0_indexmap_147164160ns_2048sl_1234s_shuffle_idx.npy",
    });
    expect(
      indexMapFilenames({ prefix: "/data/x", numSamples: 1, seqLength: 2, seed: 3, cacheDir: "/cache" })
        .docIdx,
    ).toBe("/cache/x_train_indexmap_1ns_2sl_3s_doc_idx.npy");
  });
});

describe("loadOrBuildIndexMaps cache validation", () => {
  it("refuses cache files built for other parameters, naming the file and field", () => {
    const [oneEpoch] = CASES;
    const cacheDir = temporaryDirectory();
    // The one-epoch (512-sample) files under the 2035-sample names: 2035 samples need 3 epochs, so
    // doc_idx (200 entries, not 600) has the wrong shape.
    const target = indexMapFilenames({
      prefix: oneEpoch!.prefix,
      numSamples: 2035,
      seqLength: 32,
      seed: 1234,
      cacheDir,
    });
    const sourceFiles = oneEpoch!.info.index_files.map((file) => fixturePath(`${oneEpoch!.folder}/${file}`));
    copyFileSync(sourceFiles[0]!, target.docIdx);
    copyFileSync(sourceFiles[1]!, target.sampleIdx);
    copyFileSync(sourceFiles[2]!, target.shuffleIdx);
    let error: unknown;
    try {
      loadOrBuildIndexMaps({
        prefix: oneEpoch!.prefix,
        sizes: open(oneEpoch!.prefix).sizes,
        numSamples: 2035,
        seqLength: 32,
        seed: 1234,
        cacheDir,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as DatasetFormatError).code).toBe("NPY_FORMAT");
    expect((error as DatasetFormatError).file).toBe(target.docIdx);
    expect((error as DatasetFormatError).field).toBe("shape");
    expect((error as Error).message).toMatch(/delete the three/);
  });

  it("rebuilds when only some of the three files exist", () => {
    const [oneEpoch] = CASES;
    const cacheDir = temporaryDirectory();
    const params = {
      prefix: oneEpoch!.prefix,
      sizes: open(oneEpoch!.prefix).sizes,
      numSamples: 512,
      seqLength: 32,
      seed: 1234,
      cacheDir,
    };
    copyFileSync(
      fixturePath(`${oneEpoch!.folder}/${oneEpoch!.info.index_files[0]}`),
      indexMapFilenames(params).docIdx,
    );
    expect(loadOrBuildIndexMaps(params).fromCache).toBe(false);
    expect(readdirSync(cacheDir)).toHaveLength(3);
  });
});

describe("index map invariants (property tests)", () => {
  /** The Python loop of GPT-NeoX `_num_epochs`, literally. */
  function referenceEpochs(tokensPerEpoch: number, seqLength: number, numSamples: number): number {
    let epochs = 0;
    let total = 0;
    for (;;) {
      epochs++;
      total += tokensPerEpoch;
      if (Math.floor((total - 1) / seqLength) >= numSamples) {
        return epochs;
      }
    }
  }

  const sizesArbitrary = fc
    .array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 })
    .filter((sizes) => sizes.some((size) => size > 0));

  it("doc_idx repeats the documents per epoch, every sample spans seqLength + 1 tokens, shuffle_idx is a permutation", () => {
    fc.assert(
      fc.property(
        sizesArbitrary,
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (sizeList, seqLength, numSamples, seed) => {
          const sizes = Int32Array.from(sizeList);
          const maps = buildIndexMaps({ sizes, numSamples, seqLength, seed });
          const total = sizeList.reduce((a, b) => a + b, 0);
          expect(maps.tokensPerEpoch).toBe(total);
          expect(maps.numEpochs).toBe(referenceEpochs(total, seqLength, numSamples));
          const counts = new Array<number>(sizes.length).fill(0);
          maps.docIdx.forEach((document) => counts[document]!++);
          expect(counts.every((count) => count === maps.numEpochs)).toBe(true);
          const S = Math.floor((maps.numEpochs * total - 1) / seqLength);
          expect(S).toBeGreaterThanOrEqual(numSamples);
          expect(maps.sampleIdx.length).toBe(2 * (S + 1));
          // Flat token position of each row; consecutive rows are seqLength apart (one shared token).
          const starts = [0];
          for (const document of maps.docIdx) {
            starts.push(starts[starts.length - 1]! + sizes[document]!);
          }
          for (let row = 0; row < S; row++) {
            const here = starts[maps.sampleIdx[2 * row]!]! + maps.sampleIdx[2 * row + 1]!;
            const next = starts[maps.sampleIdx[2 * row + 2]!]! + maps.sampleIdx[2 * row + 3]!;
            expect(next - here).toBe(seqLength);
          }
          expect(values(maps.shuffleIdx).sort((a, b) => a - b)).toEqual(
            Array.from({ length: S }, (_, i) => i),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("planIndexMaps agrees with the _num_epochs loop at Pythia scale", () => {
    const plan = planIndexMaps({
      sizes: Int32Array.from([1]),
      numSamples: 0,
      seqLength: 2048,
      seed: 1234,
    });
    expect(plan).toMatchObject({ numEpochs: 1, sampleCount: 0, shuffleDtype: "<u4" });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400_000_000_000 }),
        fc.integer({ min: 0, max: 160_000_000 }),
        (tokensPerEpoch, numSamples) => {
          const epochs = Math.max(1, Math.ceil((numSamples * 2048 + 1) / tokensPerEpoch));
          if (epochs > 1000) {
            return;
          }
          expect(epochs).toBe(referenceEpochs(tokensPerEpoch, 2048, numSamples));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("sample(i) is always seqLength + 1 tokens equal to the flat concatenation of doc_idx (any dtype)", () => {
    const directory = temporaryDirectory();
    let run = 0;
    fc.assert(
      fc.property(
        fc
          .array(fc.array(fc.integer({ min: 0, max: 30000 }), { maxLength: 25 }), {
            minLength: 1,
            maxLength: 12,
          })
          .filter((docs) => docs.some((doc) => doc.length > 0)),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.constantFrom("uint16" as const, "int32" as const, "int64" as const),
        (docs, seqLength, numSamples, seed, dtype) => {
          const prefix = join(directory, `d${run++}`);
          const builder = IndexedDatasetBuilder.create({ prefix, dtype });
          for (const doc of docs) {
            builder.addItem(doc);
            builder.endDocument();
          }
          builder.finalize();
          const dataset = IndexedDataset.open(prefix);
          try {
            const maps: IndexMaps = buildIndexMaps({ sizes: dataset.sizes, numSamples, seqLength, seed });
            const flat: number[] = [];
            const starts: number[] = [];
            for (const document of maps.docIdx) {
              starts.push(flat.length);
              flat.push(...docs[document]!);
            }
            starts.push(flat.length);
            const gpt2 = new GPT2Dataset({ dataset, indexMaps: maps });
            // The same maps with an int64 shuffle_idx (GPT-NeoX's dtype when S >= 2^32 - 2) serve the same samples.
            const wide = new GPT2Dataset({
              dataset,
              indexMaps: {
                ...maps,
                shuffleIdx: BigInt64Array.from(values(maps.shuffleIdx), (v) => BigInt(v)),
              },
            });
            expect(gpt2.length).toBe(maps.shuffleIdx.length - 1);
            for (let i = 0; i < gpt2.length; i++) {
              const j = maps.shuffleIdx[i] as number;
              const from = starts[maps.sampleIdx[2 * j]!]! + maps.sampleIdx[2 * j + 1]!;
              const through = starts[maps.sampleIdx[2 * j + 2]!]! + maps.sampleIdx[2 * j + 3]!;
              const tokens = gpt2.sample(i);
              expect(tokens).toHaveLength(seqLength + 1);
              expect(Array.from(tokens)).toEqual(flat.slice(from, through + 1));
              expect(wide.sample(i)).toEqual(tokens);
            }
          } finally {
            dataset.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("rejects index maps that do not belong to the dataset", () => {
    const [oneEpoch, , worked] = CASES;
    const small = open(worked!.prefix);
    const maps = buildIndexMaps({
      sizes: open(oneEpoch!.prefix).sizes,
      numSamples: 512,
      seqLength: 32,
      seed: 1234,
    });
    const gpt2 = new GPT2Dataset({ dataset: small, indexMaps: maps });
    expect(() => gpt2.sample(0)).toThrow(/belong to another dataset|seqLength/);
  });
});
