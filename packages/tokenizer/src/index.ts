export * from "./errors.js";
export * from "./tokenizer.js";
export * from "./load-pile-tokenizer.js";
export * from "./encode-documents.js";
export * from "./padded-vocab-size.js";
export { normalizeNfcLikeHf } from "./normalizer.js";
export { BYTE_TO_CHAR } from "./byte-level.js";
export type * from "./tokenizer-format.js";
