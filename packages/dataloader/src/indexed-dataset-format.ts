/**
 * The `.idx` wire format of Megatron/GPT-NeoX `MMapIndexedDataset` (little-endian throughout):
 *
 * | offset | size | field |
 * | 0 | 9 | magic "MMIDIDX\0\0" |
 * | 9 | 8 | version (uint64) = 1 |
 * | 17 | 1 | dtype code (uint8) |
 * | 18 | 8 | len: number of items (uint64) |
 * | 26 | 8 | doc_count: length of doc_idx (uint64) |
 * | 34 | 4·len | sizes: int32 tokens per item |
 * | 34+4·len | 8·len | pointers: int64 byte offset of each item in `.bin` |
 * | 34+12·len | 8·doc_count | doc_idx: int64 item index where each document starts |
 *
 * The arrays are not aligned (they start at byte 34), so they are copied into aligned buffers.
 */
export const IDX_MAGIC = Uint8Array.of(0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00);
/** The legacy "cached" format's 8-byte magic, recognised only to give a clear error. */
export const LEGACY_IDX_MAGIC = Uint8Array.of(0x54, 0x4e, 0x54, 0x49, 0x44, 0x58, 0x00, 0x00);
export const IDX_VERSION = 1;
export const IDX_HEADER_BYTES = 34;

/** Byte length of an `.idx` file with `items` items and `docCount` doc_idx entries. */
export function idxByteLength(items: number, docCount: number): number {
  return IDX_HEADER_BYTES + 12 * items + 8 * docCount;
}
