// Recall and precision of MinHash LSH + verification against brute-force exact Jaccard, on a corpus with
// planted near-duplicates, compared with what the LSH parameters predict.
//
// Prediction (ideal MinHash: each of the numPerm values agrees independently with probability s, the
// pair's exact Jaccard): a pair is found when some band of `rows` values agrees entirely AND at least
// ceil(threshold · numPerm) values agree. `foundProbability` computes that exactly with a small dynamic
// programme over bands; expected recall is its mean over the true pairs (J ≥ threshold), expected false
// positives its sum over the others. Observed counts must fall within 4 standard deviations (sums of
// independent Bernoullis) of the prediction, on both sides, so a broken banding, a biased hash or a
// missing verification step all fail.
import { describe, expect, it } from "vitest";
import { bruteForceJaccard, plantedCorpus } from "../test/planted-corpus.js";
import { findDuplicates, findNearDuplicatePairs } from "./lsh-index.js";
import { optimalLshParameters } from "./lsh-parameters.js";
import { MinHasher } from "./min-hasher.js";
import { SignatureStore } from "./signature-store.js";

/** P(some band agrees entirely and ≥ minEqual of numPerm values agree | Jaccard s), under ideal MinHash. */
function foundProbability(s: number, bands: number, rows: number, numPerm: number, minEqual: number): number {
  const binomial = (n: number, k: number) => {
    let c = 1;
    for (let i = 1; i <= k; i++) {
      c = (c * (n - k + i)) / i;
    }
    return c * s ** k * (1 - s) ** (n - k);
  };
  // state[a] / full[a]: probability of a agreements so far, with no band / some band entirely equal.
  let none = new Float64Array(numPerm + 1);
  let full = new Float64Array(numPerm + 1);
  none[0] = 1;
  for (let band = 0; band < bands; band++) {
    const nextNone = new Float64Array(numPerm + 1);
    const nextFull = new Float64Array(numPerm + 1);
    for (let a = 0; a <= band * rows; a++) {
      for (let j = 0; j <= rows; j++) {
        const p = binomial(rows, j);
        const target = j === rows ? nextFull : nextNone;
        target[a + j] = (target[a + j] as number) + (none[a] as number) * p;
        nextFull[a + j] = (nextFull[a + j] as number) + (full[a] as number) * p;
      }
    }
    none = nextNone;
    full = nextFull;
  }
  const rest = numPerm - bands * rows;
  let found = 0;
  for (let a = 0; a <= bands * rows; a++) {
    for (let j = 0; j <= rest; j++) {
      if (a + j >= minEqual) {
        found += (full[a] as number) * binomial(rest, j);
      }
    }
  }
  return found;
}

describe("MinHash LSH quality on planted near-duplicates", () => {
  const threshold = 0.87;
  const numPerm = 128;
  const corpus = plantedCorpus({
    seed: 2024,
    originalsByCopies: [150, 350, 60],
    wordsPerDocument: 300,
    maxEdits: 14,
  });
  const hasher = new MinHasher({ numPerm, seed: 1 });
  const signatures = new SignatureStore(numPerm);
  for (const text of corpus.texts) {
    signatures.append(hasher.signature(text));
  }
  const lsh = optimalLshParameters({ threshold, numPerm });
  const minEqual = Math.ceil(threshold * numPerm);
  const exact = bruteForceJaccard(corpus.texts, 5, 0.3);

  it("the corpus spans the threshold", () => {
    expect(corpus.texts).toHaveLength(150 + 350 * 2 + 60 * 3);
    const planted = [...exact.values()];
    expect(planted.filter((j) => j >= threshold).length).toBeGreaterThan(150);
    expect(planted.filter((j) => j < threshold && j > 0.75).length).toBeGreaterThan(60);
  });

  it("recall and precision are what the LSH parameters predict", () => {
    const found = new Map(
      findNearDuplicatePairs({ signatures, bands: lsh.bands, rows: lsh.rows, threshold }).map((pair) => [
        `${pair.a},${pair.b}`,
        pair.estimatedJaccard,
      ]),
    );
    let truePairs = 0;
    let truePositives = 0;
    let expectedTruePositives = 0;
    let varianceTruePositives = 0;
    let falsePositives = 0;
    let expectedFalsePositives = 0;
    let varianceFalsePositives = 0;
    for (const [pair, jaccard] of exact) {
      const p = foundProbability(jaccard, lsh.bands, lsh.rows, numPerm, minEqual);
      if (jaccard >= threshold) {
        truePairs++;
        truePositives += found.has(pair) ? 1 : 0;
        expectedTruePositives += p;
        varianceTruePositives += p * (1 - p);
      } else {
        falsePositives += found.has(pair) ? 1 : 0;
        expectedFalsePositives += p;
        varianceFalsePositives += p * (1 - p);
      }
    }
    // Every found pair is a planted one (pairs with exact Jaccard ≤ 0.3 are never found).
    for (const pair of found.keys()) {
      expect(exact.has(pair), `found pair ${pair} has exact Jaccard <= 0.3`).toBe(true);
    }
    const recall = truePositives / truePairs;
    const precision = truePositives / found.size;
    const expectedRecall = expectedTruePositives / truePairs;
    const expectedPrecision = expectedTruePositives / (expectedTruePositives + expectedFalsePositives);
    const summary = `recall ${recall.toFixed(4)} (predicted ${expectedRecall.toFixed(4)}), precision ${precision.toFixed(4)} (predicted ${expectedPrecision.toFixed(4)}), ${truePairs} true pairs, ${falsePositives} false positives (predicted ${expectedFalsePositives.toFixed(1)})`;
    expect(Math.abs(truePositives - expectedTruePositives), summary).toBeLessThanOrEqual(
      4 * Math.sqrt(varianceTruePositives) + 1,
    );
    expect(Math.abs(falsePositives - expectedFalsePositives), summary).toBeLessThanOrEqual(
      4 * Math.sqrt(varianceFalsePositives) + 1,
    );
    // Away from the threshold the S-curve is steep: clear duplicates are found, clear non-duplicates not.
    const foundShare = (low: number, high: number) => {
      const inRange = [...exact].filter(([, jaccard]) => jaccard >= low && jaccard < high);
      return { pairs: inRange.length, found: inRange.filter(([pair]) => found.has(pair)).length };
    };
    const clear = foundShare(0.95, 1.01);
    const far = foundShare(0.3, 0.8);
    expect(clear.pairs).toBeGreaterThan(50);
    expect(clear.found / clear.pairs, summary).toBeGreaterThan(0.93);
    expect(far.found / far.pairs, summary).toBeLessThan(0.02);
    expect(precision, summary).toBeGreaterThan(0.85);
  });

  it("drop decisions follow the found pairs: keep last drops the earlier of each pair, keep first the later", () => {
    const pairs = findNearDuplicatePairs({ signatures, bands: lsh.bands, rows: lsh.rows, threshold });
    for (const keep of ["last", "first"] as const) {
      const expected = new Set(pairs.map((pair) => (keep === "last" ? pair.a : pair.b)));
      const decisions = findDuplicates({ signatures, bands: lsh.bands, rows: lsh.rows, threshold, keep });
      const dropped = new Set<number>();
      decisions.duplicateOf.forEach((other, doc) => {
        if (other !== -1) {
          dropped.add(doc);
          expect(keep === "last" ? other > doc : other < doc).toBe(true);
          expect(signatures.equalValues(doc, other)).toBeGreaterThanOrEqual(minEqual);
        }
      });
      expect(dropped).toEqual(expected);
      expect(decisions.dropped).toBe(expected.size);
    }
  });
});
