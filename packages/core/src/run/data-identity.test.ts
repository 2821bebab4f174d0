import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BIN_SAMPLE_BYTES,
  compareDataIdentity,
  datasetIdentity,
  fileIdentity,
  readRunJson,
  writeRunJson,
  type DataIdentityFormat,
} from "../run.js";

/** The smallest training configuration `run.json` accepts. */
const TINY_CONFIG = {
  model: {},
  steps: 2,
  batchSize: 2,
  microBatchSize: 2,
  seqLength: 8,
  checkpointEvery: 1,
  seed: 1,
};

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash("sha256");
  parts.forEach((part) => hash.update(part));
  return hash.digest("hex");
};
const sizeHeader = (size: number) => {
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(size));
  return header;
};

function dataset(bin: Uint8Array, idx = "idx bytes"): string {
  const dir = mkdtempSync(join(tmpdir(), "pythia-identity-"));
  const prefix = join(dir, "corpus_text_document");
  writeFileSync(`${prefix}.bin`, bin);
  writeFileSync(`${prefix}.idx`, idx);
  return prefix;
}

describe("datasetIdentity", () => {
  it("hashes the .idx in full and the .bin's size, first and last MiB", async () => {
    // 2.5 MiB of a byte pattern: the middle half MiB is not read.
    const bin = Buffer.alloc(2 * BIN_SAMPLE_BYTES + BIN_SAMPLE_BYTES / 2);
    for (let i = 0; i < bin.length; i++) {
      bin[i] = (i * 31) % 251;
    }
    const prefix = dataset(bin);
    const identity = await datasetIdentity({ prefix });
    expect(identity).toEqual({
      prefix,
      idxBytes: 9,
      idxSha256: sha256(Buffer.from("idx bytes")),
      binBytes: bin.length,
      binSampleSha256: sha256(
        sizeHeader(bin.length),
        bin.subarray(0, BIN_SAMPLE_BYTES),
        bin.subarray(bin.length - BIN_SAMPLE_BYTES),
      ),
    });
    // A flip at either end shows; one in the unread middle does not (the documented limit).
    const ends = Buffer.from(bin);
    ends.writeUInt8(ends.readUInt8(bin.length - 1) ^ 1, bin.length - 1);
    writeFileSync(`${prefix}.bin`, ends);
    expect((await datasetIdentity({ prefix })).binSampleSha256).not.toBe(identity.binSampleSha256);
    const middle = Buffer.from(bin);
    middle.writeUInt8(middle.readUInt8(BIN_SAMPLE_BYTES + 10) ^ 1, BIN_SAMPLE_BYTES + 10);
    writeFileSync(`${prefix}.bin`, middle);
    expect((await datasetIdentity({ prefix })).binSampleSha256).toBe(identity.binSampleSha256);
  });

  it("reads a small .bin whole, and names a missing file", async () => {
    const bin = Buffer.from("tiny tokens");
    const prefix = dataset(bin);
    expect((await datasetIdentity({ prefix })).binSampleSha256).toBe(sha256(sizeHeader(bin.length), bin));
    await expect(datasetIdentity({ prefix: `${prefix}-absent` })).rejects.toThrow(
      `${prefix}-absent.idx: not found; pass the data the run was started with`,
    );
    expect(await fileIdentity({ path: `${prefix}.bin` })).toEqual({
      path: `${prefix}.bin`,
      bytes: bin.length,
      sha256: sha256(bin), // as sha256sum prints it
    });
  });
});

const identity = (overrides: Partial<DataIdentityFormat> = {}): DataIdentityFormat => ({
  train: {
    prefix: "/data/a",
    idxBytes: 10,
    idxSha256: "a".repeat(64),
    binBytes: 100,
    binSampleSha256: "b".repeat(64),
  },
  order: { kind: "index-map", seed: 1, seqLength: 8, numSamples: 10, validationFraction: 0.01 },
  ...overrides,
});

describe("compareDataIdentity", () => {
  it("names each changed field with both values, ignoring where the same bytes lie", () => {
    const a = identity();
    expect(compareDataIdentity(a, identity({ train: { ...a.train, prefix: "/elsewhere/a" } }))).toEqual([]);
    expect(
      compareDataIdentity(
        a,
        identity({
          train: { ...a.train, binBytes: 101, idxSha256: "c".repeat(64) },
          order: { ...a.order, validationFraction: 0.1, seed: 2 }, // the seed is the config's to compare
        }),
      ),
    ).toEqual([
      { field: "train.idxSha256", previous: "a".repeat(64), current: "c".repeat(64) },
      { field: "train.binBytes", previous: 100, current: 101 },
      { field: "order.validationFraction", previous: 0.01, current: 0.1 },
    ]);
    const input = { path: "/in/a.txt", bytes: 5, sha256: "d".repeat(64) };
    expect(
      compareDataIdentity(
        identity({ inputs: [input] }),
        identity({ inputs: [{ ...input, sha256: "e".repeat(64) }, input] }),
      ),
    ).toEqual([
      { field: "inputs[0].sha256", previous: "d".repeat(64), current: "e".repeat(64) },
      { field: "inputs[1].path", previous: null, current: "/in/a.txt" },
    ]);
    // Inputs recorded on one side only are not compared (the tokens are).
    expect(compareDataIdentity(identity({ inputs: [input] }), identity())).toEqual([]);
  });
});

describe("run.json dataIdentity and dataChanges", () => {
  it("stores paths inside the run relative to it and reads them back absolute", () => {
    const root = mkdtempSync(join(tmpdir(), "pythia-identity-run-"));
    const dir = join(root, "run");
    mkdirSync(join(dir, "data"), { recursive: true });
    const inside = identity({
      train: { ...identity().train, prefix: join(dir, "data", "a") },
      inputs: [{ path: join(root, "in.txt"), bytes: 5, sha256: "d".repeat(64) }],
    });
    const previous = identity();
    writeRunJson({
      dir,
      config: TINY_CONFIG,
      data: { kind: "index-map", prefix: join(dir, "data", "a") },
      dataIdentity: inside,
      dataChanges: [{ step: 4, changes: [{ field: "train.binBytes", previous: 1, current: 2 }], previous }],
    });
    const stored = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
    expect(stored.dataIdentity.train.prefix).toBe("data/a");
    expect(stored.dataIdentity.inputs[0].path).toBe(join(root, "in.txt"));
    const run = readRunJson({ dir });
    expect(run.dataIdentity).toEqual(inside);
    expect(run.dataChanges).toEqual([
      { step: 4, changes: [{ field: "train.binBytes", previous: 1, current: 2 }], previous },
    ]);
    writeRunJson({
      dir,
      config: TINY_CONFIG,
      data: { kind: "index-map", prefix: join(dir, "data", "a") },
    });
    expect(readRunJson({ dir })).toMatchObject({ dataIdentity: null, dataChanges: [] });
  });
});
