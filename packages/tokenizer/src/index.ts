export { TokenizerError, type TokenizerErrorCode, TokenizerFormatError } from "./errors.js";
export {
  type AddedToken,
  type DecodeOptions,
  type EncodingWithOffsets,
  type FromJsonOptions,
  Tokenizer,
} from "./tokenizer.js";
export { loadPileTokenizer, PILE_EOD_ID, PILE_PADDING_ID } from "./load-pile-tokenizer.js";
export { encodeDocuments, type EncodeDocumentsParams } from "./encode-documents.js";
export {
  paddedVocabSize,
  type PaddedVocabSizeParams,
  PYTHIA_PADDED_VOCAB_SIZE,
} from "./padded-vocab-size.js";
export { normalizeNfcLikeHf } from "./normalizer.js";
export { BYTE_TO_CHAR } from "./byte-level.js";
export type {
  AddedTokenFormat,
  BpeModelFormat,
  ByteLevelComponentFormat,
  NormalizerFormat,
  PreTokenizerFormat,
  TokenizerFileFormat,
} from "./tokenizer-format.js";
