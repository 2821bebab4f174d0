import { statSync } from "node:fs";
import { sha256File } from "@pythia/core";
import { IndexedDataset } from "./indexed-dataset.js";
import type { DtypeName } from "./dtype.js";

/** Facts about an indexed dataset (what `pythia-data info` prints). */
export interface DatasetInfo {
  prefix: string;
  dtype: DtypeName;
  items: number;
  documents: number;
  tokens: number;
  binBytes: number;
  idxBytes: number;
  /** sha256 of `.bin` and `.idx` (hex), when requested. */
  sha256?: { bin: string; idx: string };
  /** First token id outside `[0, vocabSize)`, when a vocabulary size was given and one exists. */
  vocabViolation?: { item: number; position: number; value: number } | null;
}

/** Parameters of `datasetInfo`. */
export interface DatasetInfoParams {
  prefix: string;
  /** Hash both files (reads the whole `.bin`). @default true */
  checksum?: boolean;
  /** Also scan for token ids `>= vocabSize`. */
  vocabSize?: number;
}

/** Opens (and validates) a dataset and reports its size, dtype and checksums. */
export async function datasetInfo(params: DatasetInfoParams): Promise<DatasetInfo> {
  const dataset = IndexedDataset.open(params.prefix);
  try {
    const info: DatasetInfo = {
      prefix: params.prefix,
      dtype: dataset.dtype.name,
      items: dataset.length,
      documents: dataset.documentIndex.length - 1,
      tokens: dataset.tokenCount,
      binBytes: dataset.binBytes,
      idxBytes: statSync(`${params.prefix}.idx`).size,
    };
    if (params.vocabSize !== undefined) {
      const violation = dataset.checkVocab(params.vocabSize);
      info.vocabViolation =
        violation === null
          ? null
          : { item: violation.item, position: violation.position, value: violation.value };
    }
    if (params.checksum ?? true) {
      info.sha256 = {
        bin: await sha256File(`${params.prefix}.bin`),
        idx: await sha256File(`${params.prefix}.idx`),
      };
    }
    return info;
  } finally {
    dataset.close();
  }
}
