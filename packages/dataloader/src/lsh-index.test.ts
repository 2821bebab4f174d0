import { describe, expect, it } from "vitest";
import { findDuplicates, LshIndex } from "./lsh-index.js";
import { SignatureStore } from "./signature-store.js";

/** A signature of 8 values: `base + i`, with the positions in `changed` replaced by distinct values. */
function signature(base: number, changed: number[] = []): Uint32Array {
  const values = Uint32Array.from({ length: 8 }, (_, i) => base + i);
  for (const position of changed) {
    values[position] = 1_000_000 + base * 8 + position;
  }
  return values;
}

describe("LshIndex", () => {
  it("finds documents sharing a whole band, and only those", () => {
    const index = new LshIndex({ bands: 2, rows: 4, capacity: 4, numPerm: 8 });
    index.insert(0, signature(10));
    index.insert(1, signature(10, [0])); // band 1 still equal
    index.insert(2, signature(10, [0, 5])); // both bands differ
    index.insert(3, signature(50));
    const seen: number[] = [];
    index.forEachCandidate(signature(10), (doc) => {
      seen.push(doc);
    });
    // Band 0 holds doc 0; band 1 holds docs 1 and 0 (latest first).
    expect(seen).toEqual([0, 1, 0]);
    const first: number[] = [];
    index.forEachCandidate(signature(10), (doc) => {
      first.push(doc);
      return true;
    });
    expect(first).toEqual([0]);
  });

  it("rejects impossible bands and documents out of range", () => {
    expect(() => new LshIndex({ bands: 3, rows: 3, capacity: 1, numPerm: 8 })).toThrow(
      /bands x rows <= numPerm \(8\)/,
    );
    const index = new LshIndex({ bands: 2, rows: 4, capacity: 1, numPerm: 8 });
    expect(() => index.insert(1, signature(0))).toThrow(/document 1 out of the index's range \[0, 1\)/);
  });
});

describe("findDuplicates", () => {
  it("verifies candidates: a shared band with too few equal values is not a duplicate", () => {
    const store = new SignatureStore(8);
    store.append(signature(10));
    store.append(signature(10, [0, 1, 2])); // shares band 1 only: 5 of 8 equal
    store.append(signature(10, [7])); // 7 of 8 equal
    // Doc 1 shares band 1 (values 4-7) with doc 0 and has 5 of 8 values equal to it; doc 2 has 7 of 8.
    const loose = findDuplicates({ signatures: store, bands: 2, rows: 4, threshold: 0.6, keep: "first" });
    expect(Array.from(loose.duplicateOf)).toEqual([-1, 0, 0]);
    const strict = findDuplicates({ signatures: store, bands: 2, rows: 4, threshold: 0.8, keep: "first" });
    expect(Array.from(strict.duplicateOf)).toEqual([-1, -1, 0]);
    expect(strict.estimatedJaccard[2]).toBe(7 / 8);
    expect(strict.dropped).toBe(1);
    // Keep last: doc 0 goes (doc 2 is a later near-duplicate); doc 1's only match is earlier.
    const last = findDuplicates({ signatures: store, bands: 2, rows: 4, threshold: 0.6 });
    expect(Array.from(last.duplicateOf)).toEqual([2, -1, -1]);
  });
});
