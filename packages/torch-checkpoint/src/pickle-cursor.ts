import { checkpointError, type TorchCheckpointError } from "./torch-checkpoint-error.js";
import { latin1 } from "./pickle-scalars.js";

// The pickle machine's view of its input: the position, the offset of the opcode being read (which
// every error names) and readers for opcode arguments, each of which fails as truncated when the
// bytes end first. Nothing here interprets an opcode.

const TRUNCATED = Symbol("pickle-truncated");
const MAX_TEXT_LINE = 1 << 20;
const FIX = "the pickle is corrupt or was not written by torch.save; download or save the file again";

/** True when `error` says the pickle ended before its STOP opcode (more bytes may complete it). */
export function isTruncatedPickle(error: unknown): boolean {
  return (error as { cause?: unknown } | null)?.cause === TRUNCATED;
}

/** Reads the arguments of one opcode after another from `bytes`, naming `file` in errors. */
export class PickleCursor {
  /** Where the next byte is read. */
  pos: number;
  /** Where the opcode being read starts (set by the machine; errors name it). */
  opOffset: number;
  private readonly data: DataView;
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true });

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    start: number,
  ) {
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.opOffset = start;
  }

  /** A `PICKLE_FORMAT` error at the current opcode. */
  fail(what: string, fix = FIX): TorchCheckpointError {
    return checkpointError("PICKLE_FORMAT", this.file, `pickle offset ${this.opOffset}`, what, fix);
  }

  /** The error for a pickle that ends inside the current opcode (see `isTruncatedPickle`). */
  truncated(): TorchCheckpointError {
    return checkpointError(
      "PICKLE_FORMAT",
      this.file,
      `pickle offset ${this.opOffset}`,
      "the pickle ends before its STOP opcode",
      FIX,
      TRUNCATED,
    );
  }

  /** Fails as truncated unless `count` more bytes are there. */
  need(count: number): void {
    if (count < 0 || this.pos + count > this.bytes.length) {
      throw this.truncated();
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const value = this.data.getUint16(this.pos, true);
    this.pos += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.data.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  i32(): number {
    this.need(4);
    const value = this.data.getInt32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** A 64-bit length; one past the input's size fails as truncated (it cannot be read anyway). */
  u64(): number {
    this.need(8);
    const value = this.data.getBigUint64(this.pos, true);
    this.pos += 8;
    if (value > BigInt(this.bytes.length)) {
      throw this.truncated();
    }
    return Number(value);
  }

  /** A big-endian float64 (BINFLOAT). */
  f64be(): number {
    this.need(8);
    const value = this.data.getFloat64(this.pos, false);
    this.pos += 8;
    return value;
  }

  /** The next `count` bytes, as a view of the input. */
  take(count: number): Uint8Array {
    this.need(count);
    const out = this.bytes.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }

  /** A newline-terminated text argument of protocol 0, as latin-1, without its newline. */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) {
      throw this.truncated();
    }
    if (end - this.pos > MAX_TEXT_LINE) {
      throw this.fail(`a text argument of ${end - this.pos} bytes is longer than any pickle writes`);
    }
    const text = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  /** The next `count` bytes as UTF-8 text. */
  utf8Text(count: number): string {
    const raw = this.take(count);
    try {
      return this.utf8.decode(raw);
    } catch {
      throw this.fail("a string is not valid UTF-8");
    }
  }
}
