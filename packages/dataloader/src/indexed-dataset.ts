import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { DatasetFormatError, DataloaderError } from "./errors.js";
import { dtypeByCode, type DtypeInfo, type TokenArray } from "./dtype.js";
import {
  IDX_HEADER_BYTES,
  IDX_MAGIC,
  IDX_VERSION,
  idxByteLength,
  LEGACY_IDX_MAGIC,
} from "./indexed-dataset-format.js";

/** Options of `IndexedDataset.open`. */
export interface OpenIndexedDatasetOptions {
  /**
   * Check every pointer against the sizes and the `.bin` length when opening. O(items); turn it off
   * only for trusted files with hundreds of millions of items. @default true
   */
  validate?: boolean;
}

/** Where a token id outside the vocabulary was found by `IndexedDataset.checkVocab`. */
export interface VocabViolation {
  item: number;
  position: number;
  value: number;
  byteOffset: number;
}

/**
 * A GPT-NeoX memory-mapped indexed dataset (`PREFIX.bin` + `PREFIX.idx`), read with positional reads:
 * the `.idx` arrays are loaded into memory, tokens are read from the `.bin` on demand, so files far
 * larger than RAM (and than 4 GiB) work. See docs/decisions/0006-positional-reads-not-mmap.md for why
 * this is not a native mmap.
 *
 * @example
 * const dataset = IndexedDataset.open("data/pile_text_document");
 * dataset.get(0); // Uint16Array of the first document's tokens
 */
export class IndexedDataset {
  /** The path prefix (without `.bin`/`.idx`). */
  readonly prefix: string;
  readonly dtype: DtypeInfo;
  /** Tokens per item. */
  readonly sizes: Int32Array;
  /** Byte offset of each item in `.bin` (exact as numbers up to 2^53 bytes). */
  readonly pointers: Float64Array;
  /** Item index where each document starts (`[0, 1, …, items]` when every document is one item). */
  readonly documentIndex: Float64Array;
  /** Byte length of the `.bin` file. */
  readonly binBytes: number;
  private fd: number | null;

  private constructor(
    prefix: string,
    dtype: DtypeInfo,
    sizes: Int32Array,
    pointers: Float64Array,
    documentIndex: Float64Array,
    binBytes: number,
    fd: number,
  ) {
    this.prefix = prefix;
    this.dtype = dtype;
    this.sizes = sizes;
    this.pointers = pointers;
    this.documentIndex = documentIndex;
    this.binBytes = binBytes;
    this.fd = fd;
  }

  /**
   * Opens `PREFIX.idx` and `PREFIX.bin`, validating the header and (by default) every pointer.
   * @throws DatasetFormatError naming the file, the field and the byte offset of the first problem.
   */
  static open(prefix: string, options: OpenIndexedDatasetOptions = {}): IndexedDataset {
    if (endianness() !== "LE") {
      throw new DataloaderError(
        "DATASET_IO",
        "GPT-NeoX datasets are little-endian; this machine is big-endian",
      );
    }
    const idxPath = `${prefix}.idx`;
    const binPath = `${prefix}.bin`;
    const header = readIdx(idxPath);
    const binFd = openFile(binPath);
    const binBytes = fstatSync(binFd).size;
    const dataset = new IndexedDataset(
      prefix,
      header.dtype,
      header.sizes,
      header.pointers,
      header.documentIndex,
      binBytes,
      binFd,
    );
    try {
      if (options.validate ?? true) {
        dataset.validateLayout();
      }
    } catch (error) {
      dataset.close();
      throw error;
    }
    return dataset;
  }

  /** Number of items (documents, for files written by GPT-NeoX's preprocessing). */
  get length(): number {
    return this.sizes.length;
  }

  /** Total number of tokens in `.bin`. */
  get tokenCount(): number {
    return this.binBytes / this.dtype.itemSize;
  }

  /**
   * Tokens of item `index`, from `offset` for `length` tokens (default: to the end of the item),
   * like `MMapIndexedDataset.get`. Returns a new typed array of the dataset's dtype.
   */
  get(index: number, offset = 0, length?: number): TokenArray {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `${this.prefix}: item ${index} is out of range [0, ${this.length})`,
      );
    }
    const size = this.sizes[index] as number;
    const count = length ?? size - offset;
    if (!Number.isInteger(offset) || offset < 0 || count < 0 || offset + count > size) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `${this.prefix}: tokens [${offset}, ${offset + count}) are outside item ${index} of ${size} tokens`,
      );
    }
    return this.readTokens((this.pointers[index] as number) / this.dtype.itemSize + offset, count);
  }

  /**
   * `count` tokens starting at token position `start` of `.bin`, ignoring item boundaries (how
   * Pythia's pre-shuffled files are read: row r is tokens [r·2049, (r+1)·2049)). Reads into `into`
   * when given (it must have the dataset's dtype and room for `count` tokens), so callers can reuse
   * one buffer per batch.
   */
  readTokens(start: number, count: number, into?: TokenArray, intoOffset = 0): TokenArray {
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(count) ||
      start < 0 ||
      count < 0 ||
      start + count > this.tokenCount
    ) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `${this.prefix}.bin: tokens [${start}, ${start + count}) are outside the file's ${this.tokenCount} tokens`,
      );
    }
    const out = into ?? this.dtype.create(count);
    const itemSize = this.dtype.itemSize;
    if (out.length < intoOffset + count) {
      throw new DataloaderError(
        "DATASET_RANGE",
        `readTokens: the target array has room for ${out.length - intoOffset} tokens, not ${count}`,
      );
    }
    const view = new Uint8Array(out.buffer, out.byteOffset + intoOffset * itemSize, count * itemSize);
    readFully(this.binFd(), view, start * itemSize, `${this.prefix}.bin`);
    return out;
  }

  /**
   * Scans the whole `.bin` (in chunks, constant memory) for ids outside `[0, vocabSize)`.
   * @returns the first violation, or `null` when every token fits.
   */
  checkVocab(vocabSize: number, chunkTokens = 1 << 22): VocabViolation | null {
    const chunk = this.dtype.create(chunkTokens);
    let item = 0;
    for (let start = 0; start < this.tokenCount; start += chunkTokens) {
      const count = Math.min(chunkTokens, this.tokenCount - start);
      this.readTokens(start, count, chunk);
      for (let i = 0; i < count; i++) {
        const value = Number(chunk[i]);
        if (!(value >= 0 && value < vocabSize)) {
          const byteOffset = (start + i) * this.dtype.itemSize;
          while (item + 1 < this.length && (this.pointers[item + 1] as number) <= byteOffset) {
            item++;
          }
          return {
            item,
            position: (byteOffset - (this.pointers[item] as number)) / this.dtype.itemSize,
            value,
            byteOffset,
          };
        }
      }
    }
    return null;
  }

  /** Releases the `.bin` file descriptor. Further reads throw. */
  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private binFd(): number {
    if (this.fd === null) {
      throw new DataloaderError("DATASET_IO", `${this.prefix}: the dataset was closed`);
    }
    return this.fd;
  }

  /** Every item must lie inside `.bin`, right after the previous one, and the file must end with the last. */
  private validateLayout(): void {
    const binPath = `${this.prefix}.bin`;
    const idxPath = `${this.prefix}.idx`;
    const itemSize = this.dtype.itemSize;
    let expected = 0;
    for (let i = 0; i < this.length; i++) {
      const size = this.sizes[i] as number;
      const pointer = this.pointers[i] as number;
      if (size < 0) {
        throw new DatasetFormatError({
          file: idxPath,
          field: `sizes[${i}]`,
          offset: IDX_HEADER_BYTES + 4 * i,
          message: `negative size ${size}`,
        });
      }
      if (pointer !== expected) {
        throw new DatasetFormatError({
          file: idxPath,
          field: `pointers[${i}]`,
          offset: IDX_HEADER_BYTES + 4 * this.length + 8 * i,
          message: `is ${pointer}, but the sizes before it put item ${i} at byte ${expected}; the .idx does not belong to this .bin or is corrupt`,
        });
      }
      expected += size * itemSize;
    }
    if (expected !== this.binBytes) {
      throw new DatasetFormatError({
        file: binPath,
        field: "length",
        message:
          expected > this.binBytes
            ? `is ${this.binBytes} bytes but the .idx describes ${expected}: the .bin is truncated (re-copy or re-run preprocessing)`
            : `is ${this.binBytes} bytes but the .idx describes only ${expected}: trailing data, or the .idx belongs to another .bin`,
      });
    }
    let previous = 0;
    for (let d = 0; d < this.documentIndex.length; d++) {
      const start = this.documentIndex[d] as number;
      if (start < previous || start > this.length || (d === 0 && start !== 0)) {
        throw new DatasetFormatError({
          file: idxPath,
          field: `doc_idx[${d}]`,
          offset: IDX_HEADER_BYTES + 12 * this.length + 8 * d,
          message: `is ${start}; doc_idx must start at 0 and not decrease, up to the ${this.length} items`,
        });
      }
      previous = start;
    }
  }
}

interface IdxContents {
  dtype: DtypeInfo;
  sizes: Int32Array;
  pointers: Float64Array;
  documentIndex: Float64Array;
}

/** Opens one of a dataset's files for reading; a folder (or anything but a regular file) is refused up front. */
function openFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new DataloaderError(
      "DATASET_IO",
      `cannot open ${path} (${reason}); a dataset prefix P needs both P.bin and P.idx`,
      { cause: error },
    );
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw new DataloaderError(
      "DATASET_IO",
      `${path}: is ${stats.isDirectory() ? "a directory" : "not a regular file"}, not a file; pass the dataset prefix (P for the files P.bin and P.idx)`,
    );
  }
  return fd;
}

/** Reads `view.length` bytes at `position`, or throws naming the file (a short read means truncation). */
function readFully(fd: number, view: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < view.length) {
    const read = readSync(fd, view, done, view.length - done, position + done);
    if (read === 0) {
      throw new DatasetFormatError({
        file: path,
        field: "length",
        offset: position + done,
        message: "unexpected end of file",
      });
    }
    done += read;
  }
}

function readIdx(path: string): IdxContents {
  const fd = openFile(path);
  try {
    const fileBytes = fstatSync(fd).size;
    if (fileBytes < IDX_HEADER_BYTES) {
      throw new DatasetFormatError({
        file: path,
        field: "header",
        message: `the file has ${fileBytes} bytes, fewer than the ${IDX_HEADER_BYTES}-byte header: truncated`,
      });
    }
    const header = new Uint8Array(IDX_HEADER_BYTES);
    readFully(fd, header, 0, path);
    const view = new DataView(header.buffer);
    if (!IDX_MAGIC.every((byte, i) => header[i] === byte)) {
      const legacy = LEGACY_IDX_MAGIC.every((byte, i) => header[i] === byte);
      throw new DatasetFormatError({
        file: path,
        field: "magic",
        offset: 0,
        message: legacy
          ? 'this is the legacy "cached" indexed dataset (TNTIDX); convert it to the mmap format (GPT-NeoX data_impl "mmap")'
          : `expected "MMIDIDX\\0\\0", found ${JSON.stringify(new TextDecoder("latin1").decode(header.subarray(0, 9)))}: not a GPT-NeoX .idx file`,
      });
    }
    const version = view.getBigUint64(9, true);
    if (version !== BigInt(IDX_VERSION)) {
      throw new DatasetFormatError({
        file: path,
        field: "version",
        offset: 9,
        message: `is ${version}; only version ${IDX_VERSION} exists`,
      });
    }
    const code = view.getUint8(17);
    const dtype = dtypeByCode(code);
    if (dtype === null) {
      throw new DatasetFormatError({
        file: path,
        field: "dtype",
        offset: 17,
        message: `unknown dtype code ${code}; valid codes are 1-8`,
      });
    }
    const items = safeCount(view.getBigUint64(18, true), path, "len", 18);
    const docCount = safeCount(view.getBigUint64(26, true), path, "doc_count", 26);
    const expected = idxByteLength(items, docCount);
    if (fileBytes !== expected) {
      const cut = fileBytes < expected;
      const field = !cut
        ? "length"
        : fileBytes < IDX_HEADER_BYTES + 4 * items
          ? "sizes"
          : fileBytes < IDX_HEADER_BYTES + 12 * items
            ? "pointers"
            : "doc_idx";
      throw new DatasetFormatError({
        file: path,
        field,
        offset: fileBytes,
        message: cut
          ? `the file ends after ${fileBytes} bytes but len=${items} and doc_count=${docCount} need ${expected}: truncated`
          : `the file has ${fileBytes} bytes but len=${items} and doc_count=${docCount} need exactly ${expected}: trailing data or a corrupt header`,
      });
    }
    const sizes = new Int32Array(items);
    readFully(fd, new Uint8Array(sizes.buffer), IDX_HEADER_BYTES, path);
    const pointers64 = new BigInt64Array(items);
    readFully(fd, new Uint8Array(pointers64.buffer), IDX_HEADER_BYTES + 4 * items, path);
    const documents64 = new BigInt64Array(docCount);
    readFully(fd, new Uint8Array(documents64.buffer), IDX_HEADER_BYTES + 12 * items, path);
    return {
      dtype,
      sizes,
      pointers: toFloat64(pointers64, path, "pointers", IDX_HEADER_BYTES + 4 * items),
      documentIndex: toFloat64(documents64, path, "doc_idx", IDX_HEADER_BYTES + 12 * items),
    };
  } finally {
    closeSync(fd);
  }
}

function safeCount(value: bigint, path: string, field: string, offset: number): number {
  // 2^40 items would need a 12 TiB .idx: anything larger is a corrupt header, not a big dataset.
  if (value > 2n ** 40n) {
    throw new DatasetFormatError({
      file: path,
      field,
      offset,
      message: `is ${value}, which no real dataset has: corrupt header`,
    });
  }
  return Number(value);
}

function toFloat64(values: BigInt64Array, path: string, field: string, base: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as bigint;
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new DatasetFormatError({
        file: path,
        field: `${field}[${i}]`,
        offset: base + 8 * i,
        message: `is ${value}, outside [0, 2^53)`,
      });
    }
    out[i] = Number(value);
  }
  return out;
}
