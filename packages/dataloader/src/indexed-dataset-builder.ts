import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { temporaryPath } from "@pythia/core";
import { commitTemporaryFiles, removeTemporaryFiles } from "./atomic-file.js";
import { DataloaderError } from "./errors.js";
import { GrowableArray } from "./growable-array.js";
import { isSystemError, writeFailure } from "./write-failure.js";
import { dtypeByName, type DtypeInfo, type DtypeName, type TokenArray } from "./dtype.js";
import { IDX_HEADER_BYTES, IDX_MAGIC, IDX_VERSION } from "./indexed-dataset-format.js";

/** Parameters of `IndexedDatasetBuilder.create`. */
export interface CreateIndexedDatasetParams {
  /** Output path prefix: writes `PREFIX.bin` and `PREFIX.idx`. */
  prefix: string;
  /** Element type. GPT-NeoX uses uint16 for vocabularies under 65500 ids (`bestDtype`). @default "uint16" */
  dtype?: DtypeName;
  /** When given, every token must be in `[0, vocabSize)`. */
  vocabSize?: number;
}

/** What `finalize` wrote. */
export interface IndexedDatasetSummary {
  prefix: string;
  dtype: DtypeName;
  items: number;
  documents: number;
  tokens: number;
}

const FLUSH_BYTES = 1 << 22;

/**
 * Writes a GPT-NeoX indexed dataset byte-for-byte like `MMapIndexedDatasetBuilder`: `addItem` per
 * item, `endDocument` after each document, `finalize` to write the `.idx`. Everything goes to
 * temporary files first; `finalize` renames them into place (`.bin` then `.idx`), so a crash or an
 * `abort()` never leaves a half-written dataset under the real name.
 *
 * @example
 * const builder = IndexedDatasetBuilder.create({ prefix: "out/data", dtype: "uint16" });
 * builder.addItem([12092, 13, 1533, 2, 0]);
 * builder.endDocument();
 * builder.finalize();
 */
export class IndexedDatasetBuilder {
  readonly prefix: string;
  readonly dtype: DtypeInfo;
  private readonly vocabSize: number | undefined;
  private readonly binTemporary: string;
  private readonly idxTemporary: string;
  private binFd: number | null;
  private readonly sizes = new GrowableArray((capacity) => new Int32Array(capacity));
  private readonly documentIndex = new GrowableArray((capacity) => new Float64Array(capacity));
  private pending: Uint8Array;
  private pendingBytes = 0;
  private tokens = 0;

  private constructor(params: CreateIndexedDatasetParams) {
    this.prefix = params.prefix;
    this.dtype = dtypeByName(params.dtype ?? "uint16");
    this.vocabSize = params.vocabSize;
    this.binTemporary = temporaryPath(`${params.prefix}.bin`);
    this.idxTemporary = temporaryPath(`${params.prefix}.idx`);
    try {
      this.binFd = openSync(this.binTemporary, "wx");
    } catch (error) {
      throw new DataloaderError(
        "DATASET_IO",
        `cannot create ${this.binTemporary} (${(error as NodeJS.ErrnoException).code ?? String(error)}); check that the output directory exists and is writable`,
        { cause: error },
      );
    }
    this.pending = new Uint8Array(FLUSH_BYTES);
    this.documentIndex.push(0);
  }

  /** Starts a new dataset at `params.prefix` (nothing appears under that name until `finalize`). */
  static create(params: CreateIndexedDatasetParams): IndexedDatasetBuilder {
    return new IndexedDatasetBuilder(params);
  }

  /** Number of items added so far. */
  get items(): number {
    return this.sizes.length;
  }

  /**
   * Appends one item (for token data: one document's ids, EOD included).
   * @throws DataloaderError when a value does not fit the dtype or the vocabulary (values are never wrapped).
   */
  addItem(tokens: ArrayLike<number> | TokenArray): void {
    const fd = this.requireOpen();
    const count = tokens.length;
    const itemSize = this.dtype.itemSize;
    const limit =
      this.vocabSize === undefined ? this.dtype.max : Math.min(this.dtype.max, this.vocabSize - 1);
    const encoded = this.dtype.create(count);
    for (let i = 0; i < count; i++) {
      const value = Number(tokens[i]);
      if (
        !(value >= this.dtype.min && value <= limit) ||
        (this.dtype.name !== "float32" && this.dtype.name !== "float64" && !Number.isInteger(value))
      ) {
        throw new DataloaderError(
          "DATASET_INPUT",
          `item ${this.sizes.length}, position ${i}: value ${value} does not fit ${this.dtype.name}` +
            (this.vocabSize === undefined ? "" : ` with vocabulary size ${this.vocabSize}`) +
            "; use a wider dtype (int32) or check the token ids",
        );
      }
      if (this.dtype.name === "int64") {
        (encoded as BigInt64Array)[i] = BigInt(value);
      } else {
        (encoded as Exclude<TokenArray, BigInt64Array>)[i] = value;
      }
    }
    const bytes = new Uint8Array(encoded.buffer, encoded.byteOffset, count * itemSize);
    if (this.pendingBytes + bytes.length > this.pending.length) {
      this.flush(fd);
    }
    if (bytes.length > this.pending.length) {
      writeAll(fd, bytes, `${this.prefix}.bin`);
    } else {
      this.pending.set(bytes, this.pendingBytes);
      this.pendingBytes += bytes.length;
    }
    this.sizes.push(count);
    this.tokens += count;
  }

  /** Marks the end of a document (GPT-NeoX's `end_document`): the next item starts a new one. */
  endDocument(): void {
    this.requireOpen();
    this.documentIndex.push(this.sizes.length);
  }

  /** Writes the `.idx`, flushes both files to disk and renames them into place. */
  finalize(): IndexedDatasetSummary {
    const fd = this.requireOpen();
    try {
      this.flush(fd);
      fsyncSync(fd);
      closeSync(fd);
      this.binFd = null;
      this.writeIdx();
      commitTemporaryFiles([
        [this.binTemporary, `${this.prefix}.bin`],
        [this.idxTemporary, `${this.prefix}.idx`],
      ]);
    } catch (error) {
      this.abort();
      throw isSystemError(error) ? writeFailure(`${this.prefix}.bin/.idx`, error) : error;
    }
    return {
      prefix: this.prefix,
      dtype: this.dtype.name,
      items: this.sizes.length,
      documents: this.documentIndex.length - 1,
      tokens: this.tokens,
    };
  }

  /** Discards everything written (removes the temporary files). Safe to call more than once. */
  abort(): void {
    if (this.binFd !== null) {
      closeSync(this.binFd);
      this.binFd = null;
    }
    removeTemporaryFiles([this.binTemporary, this.idxTemporary]);
  }

  private requireOpen(): number {
    if (this.binFd === null) {
      throw new DataloaderError("DATASET_IO", `${this.prefix}: the builder was already finalized or aborted`);
    }
    return this.binFd;
  }

  private flush(fd: number): void {
    if (this.pendingBytes > 0) {
      writeAll(fd, this.pending.subarray(0, this.pendingBytes), `${this.prefix}.bin`);
      this.pendingBytes = 0;
    }
  }

  private writeIdx(): void {
    const items = this.sizes.length;
    const docCount = this.documentIndex.length;
    const buffer = new ArrayBuffer(IDX_HEADER_BYTES + 12 * items + 8 * docCount);
    const bytes = new Uint8Array(buffer);
    const view = new DataView(buffer);
    bytes.set(IDX_MAGIC, 0);
    view.setBigUint64(9, BigInt(IDX_VERSION), true);
    view.setUint8(17, this.dtype.code);
    view.setBigUint64(18, BigInt(items), true);
    view.setBigUint64(26, BigInt(docCount), true);
    let offset = IDX_HEADER_BYTES;
    const sizes = this.sizes.view();
    new Uint8Array(buffer, offset, 4 * items).set(new Uint8Array(sizes.buffer, sizes.byteOffset, 4 * items));
    offset += 4 * items;
    let pointer = 0;
    for (const size of sizes) {
      view.setBigInt64(offset, BigInt(pointer), true);
      pointer += size * this.dtype.itemSize;
      offset += 8;
    }
    for (const start of this.documentIndex.view()) {
      view.setBigInt64(offset, BigInt(start), true);
      offset += 8;
    }
    const fd = openSync(this.idxTemporary, "wx");
    try {
      writeAll(fd, bytes, `${this.prefix}.idx`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Writes every byte; a failed write (a full disk: ENOSPC) becomes a one-line error naming `path`. */
function writeAll(fd: number, bytes: Uint8Array, path: string): void {
  let done = 0;
  try {
    while (done < bytes.length) {
      done += writeSync(fd, bytes, done, bytes.length - done);
    }
  } catch (error) {
    throw isSystemError(error) ? writeFailure(path, error) : error;
  }
}
