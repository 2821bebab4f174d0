export { DataloaderError, type DataloaderErrorCode, DatasetFormatError } from "./errors.js";
export {
  bestDtype,
  dtypeByCode,
  dtypeByName,
  type DtypeInfo,
  type DtypeName,
  DTYPES,
  type TokenArray,
} from "./dtype.js";
export { IndexedDataset, type OpenIndexedDatasetOptions, type VocabViolation } from "./indexed-dataset.js";
export {
  type CreateIndexedDatasetParams,
  IndexedDatasetBuilder,
  type IndexedDatasetSummary,
} from "./indexed-dataset-builder.js";
export {
  type InputDocument,
  type InputRecord,
  parseRecord,
  readDocuments,
  type ReadDocumentsParams,
  readRecords,
} from "./read-documents.js";
export {
  preprocess,
  type PreprocessEvent,
  preprocessIter,
  type PreprocessParams,
  type PreprocessSummary,
} from "./preprocess.js";
export {
  batchRows,
  indexMapBatch,
  type IndexMapBatchParams,
  preshuffledBatch,
  type PreshuffledBatchParams,
} from "./batch-viewer.js";
export { type DatasetInfo, datasetInfo, type DatasetInfoParams } from "./dataset-info.js";
export { RandomState, type RandomStateSnapshot, type ShuffleArray } from "./numpy-random-state.js";
export { isNpyDtype, type NpyArray, type NpyDtype, npyHeader, readNpy, writeNpy } from "./npy.js";
export {
  buildIndexMaps,
  type BuildIndexMapsParams,
  GPT2Dataset,
  type GPT2DatasetIndexMaps,
  indexMapFilenames,
  type IndexMapFilenamesParams,
  type IndexMapFiles,
  type IndexMaps,
  type IndexMapsPlan,
  type LoadedIndexMaps,
  loadOrBuildIndexMaps,
  type LoadOrBuildIndexMapsParams,
  type OpenGPT2DatasetParams,
  planIndexMaps,
} from "./gpt2-dataset.js";
export * from "./dedup.js";
export * from "./min-hasher.js";
export * from "./word-shingles.js";
export * from "./lsh-parameters.js";
export * from "./lsh-index.js";
export * from "./signature-store.js";
export * from "./unshard.js";
export * from "./stale-temporary-files.js";
