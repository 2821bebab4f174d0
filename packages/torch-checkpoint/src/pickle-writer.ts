import { PickleTuple } from "./pickle-values.js";
import { checkpointError } from "./torch-checkpoint-error.js";

// The pickle subset torch.save writes with protocol 2, for plain data: None, bools, ints (BININT1,
// BININT2, BININT, LONG1), floats (BINFLOAT), str (BINUNICODE), tuples, lists, dicts, and
// `collections.OrderedDict`; plus whatever a caller's `encodeObject` hook emits for other objects
// (tensors, see torch-save.ts). No memo is written: values are trees, not graphs.

/** A dict pickled as `collections.OrderedDict` (what `state_dict()` returns). */
export class PickleOrderedDict<V = unknown> extends Map<string, V> {}

/** Emits pickle opcodes into a growing buffer. */
export class PickleWriter {
  private bytes = new Uint8Array(1024);
  private length = 0;
  private readonly encoder = new TextEncoder();

  /** `encodeObject(value, writer)` pickles objects the writer does not know; return false to refuse. */
  constructor(
    private readonly encodeObject: (value: unknown, writer: PickleWriter) => boolean = () => false,
  ) {}

  /** The pickle so far. */
  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  /** Appends raw bytes. */
  raw(...values: number[]): void {
    this.reserve(values.length);
    for (const value of values) {
      this.bytes[this.length++] = value;
    }
  }

  private reserve(count: number): void {
    if (this.length + count > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
  }

  private rawBytes(values: Uint8Array): void {
    this.reserve(values.length);
    this.bytes.set(values, this.length);
    this.length += values.length;
  }

  private uint32(value: number): void {
    this.raw(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  }

  /** PROTO 2. */
  begin(): void {
    this.raw(0x80, 2);
  }

  /** STOP. */
  end(): void {
    this.raw(0x2e);
  }

  /** MARK. */
  mark(): void {
    this.raw(0x28);
  }

  /** GLOBAL `module name`. */
  global(module: string, name: string): void {
    this.raw(0x63);
    this.rawBytes(this.encoder.encode(`${module}\n${name}\n`));
  }

  /** TUPLE (after MARK and items). */
  tupleFromMark(): void {
    this.raw(0x74);
  }

  /** REDUCE. */
  reduce(): void {
    this.raw(0x52);
  }

  /** BINPERSID. */
  persistentId(): void {
    this.raw(0x51);
  }

  /** Pickles `value` (see the file's comment for what is supported). */
  value(value: unknown): void {
    if (value === null || value === undefined) {
      this.raw(0x4e);
    } else if (value === true) {
      this.raw(0x88);
    } else if (value === false) {
      this.raw(0x89);
    } else if (typeof value === "number") {
      this.number(value);
    } else if (typeof value === "bigint") {
      this.long(value);
    } else if (typeof value === "string") {
      const utf8 = this.encoder.encode(value);
      this.raw(0x58);
      this.uint32(utf8.length);
      this.rawBytes(utf8);
    } else if (value instanceof PickleTuple) {
      this.tuple(value.items);
    } else if (Array.isArray(value)) {
      this.raw(0x5d);
      if (value.length > 0) {
        this.mark();
        value.forEach((item) => this.value(item));
        this.raw(0x65);
      }
    } else if (value instanceof PickleOrderedDict) {
      this.global("collections", "OrderedDict");
      this.raw(0x29, 0x52);
      this.items(value);
    } else if (value instanceof Map) {
      this.raw(0x7d);
      this.items(value);
    } else if (!this.encodeObject(value, this)) {
      throw checkpointError(
        "INPUT",
        "<pickle writer>",
        "value",
        `cannot pickle a ${(value as object).constructor?.name ?? typeof value}`,
        "pass plain data, Maps, PickleTuples and tensors",
      );
    }
  }

  /** A tuple of `items`. */
  tuple(items: readonly unknown[]): void {
    if (items.length === 0) {
      this.raw(0x29);
    } else if (items.length <= 3) {
      items.forEach((item) => this.value(item));
      this.raw(0x84 + items.length);
    } else {
      this.mark();
      items.forEach((item) => this.value(item));
      this.tupleFromMark();
    }
  }

  private items(map: ReadonlyMap<unknown, unknown>): void {
    const entries = [...map];
    for (let start = 0; start < entries.length; start += 1000) {
      this.mark();
      for (const [key, item] of entries.slice(start, start + 1000)) {
        this.value(key);
        this.value(item);
      }
      this.raw(0x75);
    }
  }

  private number(value: number): void {
    if (Number.isInteger(value) && !Object.is(value, -0)) {
      if (value >= 0 && value < 0x100) {
        this.raw(0x4b, value);
      } else if (value >= 0 && value < 0x10000) {
        this.raw(0x4d, value & 0xff, value >>> 8);
      } else if (value >= -0x80000000 && value < 0x80000000) {
        this.raw(0x4a);
        this.uint32(value >>> 0);
      } else if (Number.isSafeInteger(value)) {
        this.long(BigInt(value));
      } else {
        this.float(value);
      }
    } else {
      this.float(value);
    }
  }

  private float(value: number): void {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value, false);
    this.raw(0x47);
    this.rawBytes(new Uint8Array(view.buffer));
  }

  private long(value: bigint): void {
    const bytes: number[] = [];
    let rest = value;
    // Little-endian two's complement, as short as Python's encode_long.
    while (true) {
      const byte = Number(rest & 0xffn);
      bytes.push(byte);
      rest >>= 8n;
      if ((rest === 0n && (byte & 0x80) === 0) || (rest === -1n && (byte & 0x80) !== 0)) {
        break;
      }
    }
    if (value === 0n) {
      bytes.length = 0;
    }
    this.raw(0x8a, bytes.length, ...bytes);
  }
}
