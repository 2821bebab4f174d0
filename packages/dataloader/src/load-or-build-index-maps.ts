import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  buildIndexMaps,
  planIndexMaps,
  type BuildIndexMapsParams,
  type IndexMaps,
  type IndexMapsPlan,
} from "./build-index-maps.js";
import { DatasetFormatError } from "./errors.js";
import { readNpy, writeNpy } from "./npy.js";

/** Paths of the three index-map cache files. */
export interface IndexMapFiles {
  /** `…_doc_idx.npy` */
  docIdx: string;
  /** `…_sample_idx.npy` */
  sampleIdx: string;
  /** `…_shuffle_idx.npy` */
  shuffleIdx: string;
}

/** Parameters of `indexMapFilenames`. */
export interface IndexMapFilenamesParams {
  /** Dataset path prefix (without `.bin`/`.idx`). */
  prefix: string;
  /** Dataset name: `train` in GPT2Dataset's default, `train_0` for Pythia's weighted-datasets route. @default "train" */
  name?: string;
  /** Samples requested. */
  numSamples: number;
  /** Tokens per sample minus one. */
  seqLength: number;
  /** `RandomState` seed. */
  seed: number;
  /** Directory for the files instead of the prefix's own directory (names keep the prefix's base name). */
  cacheDir?: string;
}

/**
 * GPT-NeoX's cache paths `{prefix}_{name}_indexmap_{numSamples}ns_{seqLength}sl_{seed}s_{doc,sample,shuffle}_idx.npy`,
 * e.g. `pile_20B_tokenizer_text_document_train_0_indexmap_147164160ns_2048sl_1234s_shuffle_idx.npy`.
 */
export function indexMapFilenames(params: IndexMapFilenamesParams): IndexMapFiles {
  const { prefix, name = "train", numSamples, seqLength, seed, cacheDir } = params;
  const base = cacheDir === undefined ? prefix : join(cacheDir, basename(prefix));
  const stem = `${base}_${name}_indexmap_${numSamples}ns_${seqLength}sl_${seed}s`;
  return {
    docIdx: `${stem}_doc_idx.npy`,
    sampleIdx: `${stem}_sample_idx.npy`,
    shuffleIdx: `${stem}_shuffle_idx.npy`,
  };
}

/** Parameters of `loadOrBuildIndexMaps`. */
export interface LoadOrBuildIndexMapsParams extends BuildIndexMapsParams {
  /** Dataset path prefix; the cache files are named after it. */
  prefix: string;
  /** @default "train" */
  name?: string;
  /** Where the cache files live. @default the prefix's directory, like GPT-NeoX */
  cacheDir?: string;
}

/** Index maps and where they came from. */
export interface LoadedIndexMaps extends IndexMaps {
  /** The cache files read or written. */
  files: IndexMapFiles;
  /** True when read from existing cache files, false when built (and written) now. */
  fromCache: boolean;
}

/**
 * GPT-NeoX `_build_index_mappings` with its cache: loads the three `.npy` files when all exist
 * (checking their dtypes, shapes and index ranges against the parameters), otherwise builds the maps
 * and writes them with GPT-NeoX's names and dtypes (doc_idx `<i4`, sample_idx `<i4 [S+1, 2]`,
 * shuffle_idx `<u4` or `<i8`), each file atomically and byte-identical to numpy's `np.save`.
 * @throws DatasetFormatError (code `NPY_FORMAT`) when a cache file does not fit the parameters.
 */
export function loadOrBuildIndexMaps(params: LoadOrBuildIndexMapsParams): LoadedIndexMaps {
  const files = indexMapFilenames(params);
  const plan = planIndexMaps(params);
  if (existsSync(files.docIdx) && existsSync(files.sampleIdx) && existsSync(files.shuffleIdx)) {
    return { ...loadIndexMaps(files, plan, params), files, fromCache: true };
  }
  const maps = buildIndexMaps(params);
  mkdirSync(dirname(files.docIdx), { recursive: true });
  writeNpy(files.docIdx, { dtype: "<i4", shape: [maps.docIdx.length], data: maps.docIdx });
  writeNpy(files.sampleIdx, {
    dtype: "<i4",
    shape: [maps.sampleIdx.length / 2, 2],
    data: maps.sampleIdx,
  });
  if (maps.shuffleIdx instanceof Uint32Array) {
    writeNpy(files.shuffleIdx, {
      dtype: "<u4",
      shape: [maps.shuffleIdx.length],
      data: maps.shuffleIdx,
    });
  } else {
    writeNpy(files.shuffleIdx, {
      dtype: "<i8",
      shape: [maps.shuffleIdx.length],
      data: maps.shuffleIdx,
    });
  }
  return { ...maps, files, fromCache: false };
}

function loadIndexMaps(
  files: IndexMapFiles,
  plan: IndexMapsPlan,
  params: LoadOrBuildIndexMapsParams,
): IndexMaps {
  const stale = "does not match these parameters: delete the three *_indexmap_* files to rebuild them";
  const fail = (file: string, field: string, message: string): DatasetFormatError =>
    new DatasetFormatError({ file, field, message: `${message}; ${stale}`, code: "NPY_FORMAT" });

  const docFile = readNpy(files.docIdx);
  const docLength = plan.numEpochs * plan.documentCount;
  if (docFile.dtype !== "<i4") {
    throw fail(files.docIdx, "descr", `is '${docFile.dtype}', expected '<i4'`);
  }
  if (docFile.shape.length !== 1 || docFile.shape[0] !== docLength) {
    throw fail(files.docIdx, "shape", `is (${docFile.shape.join(", ")}), expected (${docLength},)`);
  }
  const docIdx = docFile.data;
  for (let i = 0; i < docIdx.length; i++) {
    const document = docIdx[i] as number;
    if (document < 0 || document >= params.sizes.length) {
      throw fail(
        files.docIdx,
        `data[${i}]`,
        `is ${document}, not an item of the ${params.sizes.length}-item dataset`,
      );
    }
  }

  const sampleFile = readNpy(files.sampleIdx);
  const rows = plan.sampleCount + 1;
  if (sampleFile.dtype !== "<i4") {
    throw fail(files.sampleIdx, "descr", `is '${sampleFile.dtype}', expected '<i4'`);
  }
  if (sampleFile.shape.length !== 2 || sampleFile.shape[0] !== rows || sampleFile.shape[1] !== 2) {
    throw fail(files.sampleIdx, "shape", `is (${sampleFile.shape.join(", ")}), expected (${rows}, 2)`);
  }
  const sampleIdx = sampleFile.data;
  let previous = 0;
  for (let row = 0; row < rows; row++) {
    const position = sampleIdx[2 * row] as number;
    if (position < previous || position >= docLength || (sampleIdx[2 * row + 1] as number) < 0) {
      throw fail(
        files.sampleIdx,
        `data[${row}]`,
        `is (${position}, ${sampleIdx[2 * row + 1]}): positions must not decrease and lie in doc_idx [0, ${docLength})`,
      );
    }
    previous = position;
  }

  const shuffleFile = readNpy(files.shuffleIdx);
  if (shuffleFile.dtype !== plan.shuffleDtype) {
    throw fail(files.shuffleIdx, "descr", `is '${shuffleFile.dtype}', expected '${plan.shuffleDtype}'`);
  }
  if (shuffleFile.shape.length !== 1 || shuffleFile.shape[0] !== plan.sampleCount) {
    throw fail(
      files.shuffleIdx,
      "shape",
      `is (${shuffleFile.shape.join(", ")}), expected (${plan.sampleCount},)`,
    );
  }
  let shuffleIdx: Uint32Array | BigInt64Array;
  if (shuffleFile.dtype === "<u4") {
    shuffleIdx = shuffleFile.data;
    for (let i = 0; i < shuffleIdx.length; i++) {
      if ((shuffleIdx[i] as number) >= plan.sampleCount) {
        throw fail(files.shuffleIdx, `data[${i}]`, `is ${shuffleIdx[i]}, not below S = ${plan.sampleCount}`);
      }
    }
  } else {
    shuffleIdx = shuffleFile.data;
  }
  return {
    docIdx,
    sampleIdx,
    shuffleIdx,
    numEpochs: plan.numEpochs,
    tokensPerEpoch: plan.tokensPerEpoch,
    seqLength: params.seqLength,
  };
}
