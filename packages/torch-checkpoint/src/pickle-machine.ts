import { checkpointError, type TorchCheckpointError } from "./torch-checkpoint-error.js";

// A pickle *reader* that never runs code. The pickle format is a small stack machine
// (CPython Lib/pickletools.py documents every opcode). Opcodes that build data — ints, floats,
// strings, bytes, tuples, lists, dicts, sets, the memo — are interpreted here. The opcodes that
// reach outside the data are:
//   GLOBAL / STACK_GLOBAL / INST / OBJ: name a module attribute. Here the caller's `resolveGlobal`
//     decides: return a JS stand-in (an allow-listed `PickleCallable`), an `OpaqueGlobal`
//     placeholder, or throw (the default policy refuses everything).
//   REDUCE / NEWOBJ / NEWOBJ_EX: call what GLOBAL produced. A `PickleCallable` runs its own JS
//     implementation (e.g. building a tensor description); an `OpaqueGlobal` is never called and
//     gives an `OpaqueObject` that only records its arguments.
//   BUILD: `__setstate__`; recorded on opaque objects, otherwise accepted only when empty.
//   PERSID / BINPERSID: handed to the caller's `persistentLoad` (torch's storages).
//   EXT1/2/4 (the copyreg extension registry) and out-of-band buffers are refused.
// Every opcode consumes at least one byte, so a run is linear in the input: no input can hang it.

/**
 * Where the attributes a pickle sets on a dict with BUILD (e.g. a state dict's `_metadata`) are kept:
 * `(dict as { [PICKLE_ATTRIBUTES]?: unknown })[PICKLE_ATTRIBUTES]`.
 */
export const PICKLE_ATTRIBUTES: unique symbol = Symbol.for("@pythia/torch-checkpoint.pickle-attributes");

/** A Python tuple (kept apart from lists, which are JS arrays). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** An allow-listed global: a JS implementation of a known, side-effect-free Python callable. */
export interface PickleCallable {
  readonly module: string;
  readonly name: string;
  /** Builds the value `module.name(*args)` would; must not touch anything outside its arguments. */
  call(args: readonly unknown[], offset: number): unknown;
}

/** A global outside the allow-list, kept as a name because the caller asked to skip, not refuse. */
export class OpaqueGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** What calling (or instantiating) an `OpaqueGlobal` gives: its arguments, never a result. */
export class OpaqueObject {
  /** State passed by BUILD, if any. */
  state: unknown = undefined;
  /** Items added with APPEND(S) / SETITEM(S), if any. */
  readonly listItems: unknown[] = [];
  readonly dictItems = new Map<unknown, unknown>();
  constructor(
    readonly global: OpaqueGlobal,
    readonly args: readonly unknown[],
  ) {}
}

/** How the pickle machine reaches outside the data; see the file's comment. */
export interface PickleHooks {
  /** Resolves `module.name`; throw to refuse (the default refuses every global). */
  resolveGlobal?: (module: string, name: string, offset: number) => unknown;
  /** Resolves a persistent id (torch: a storage tuple). The default refuses persistent ids. */
  persistentLoad?: (pid: unknown, offset: number) => unknown;
}

/** What `unpickle` returns. */
export interface UnpickleResult {
  value: unknown;
  /** Offset one past the STOP opcode (where a following pickle starts). */
  end: number;
}

const TRUNCATED = Symbol("pickle-truncated");
const MARK_MISSING = "no MARK on the stack";
const MAX_LONG_BYTES = 4096;
const MAX_TEXT_LINE = 1 << 20;
const FIX = "the pickle is corrupt or was not written by torch.save; download or save the file again";

/** True when `error` says the pickle ended before its STOP opcode (more bytes may complete it). */
export function isTruncatedPickle(error: unknown): boolean {
  return (error as { cause?: unknown } | null)?.cause === TRUNCATED;
}

function fail(file: string, offset: number, what: string, fix = FIX): TorchCheckpointError {
  return checkpointError("PICKLE_FORMAT", file, `pickle offset ${offset}`, what, fix);
}

function truncated(file: string, offset: number): TorchCheckpointError {
  return checkpointError(
    "PICKLE_FORMAT",
    file,
    `pickle offset ${offset}`,
    "the pickle ends before its STOP opcode",
    FIX,
    TRUNCATED,
  );
}

function describe(value: unknown): string {
  if (value === null) {
    return "None";
  }
  if (Array.isArray(value)) {
    return "list";
  }
  if (value instanceof PickleTuple) {
    return "tuple";
  }
  if (value instanceof Map) {
    return "dict";
  }
  if (value instanceof OpaqueObject) {
    return `opaque ${value.global.module}.${value.global.name} object`;
  }
  if (typeof value === "object") {
    return (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
  }
  return typeof value;
}

function refuseGlobal(module: string, name: string, offset: number): never {
  throw checkpointError(
    "FORBIDDEN_GLOBAL",
    "<pickle>",
    `pickle offset ${offset}`,
    `global ${module}.${name} is not allowed`,
    "pass a resolveGlobal hook that allows it",
  );
}

/**
 * Interprets the pickle in `bytes` from `start` to its STOP opcode without executing anything
 * (see the file's comment). Throws `TorchCheckpointError` (`PICKLE_FORMAT`, or whatever the hooks
 * throw) naming `file` and the opcode's offset.
 */
export function unpickle(
  bytes: Uint8Array,
  options: PickleHooks & { file?: string; start?: number } = {},
): UnpickleResult {
  const file = options.file ?? "<pickle>";
  const resolveGlobal = options.resolveGlobal ?? refuseGlobal;
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = options.start ?? 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let opOffset = pos;

  const need = (count: number): void => {
    if (count < 0 || pos + count > bytes.length) {
      throw truncated(file, opOffset);
    }
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++] as number;
  };
  const u16 = (): number => {
    need(2);
    const value = data.getUint16(pos, true);
    pos += 2;
    return value;
  };
  const u32 = (): number => {
    need(4);
    const value = data.getUint32(pos, true);
    pos += 4;
    return value;
  };
  const i32 = (): number => {
    need(4);
    const value = data.getInt32(pos, true);
    pos += 4;
    return value;
  };
  const u64 = (): number => {
    need(8);
    const value = data.getBigUint64(pos, true);
    pos += 8;
    if (value > BigInt(bytes.length)) {
      throw truncated(file, opOffset);
    }
    return Number(value);
  };
  const take = (count: number): Uint8Array => {
    need(count);
    const out = bytes.subarray(pos, pos + count);
    pos += count;
    return out;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) {
      throw truncated(file, opOffset);
    }
    if (end - pos > MAX_TEXT_LINE) {
      throw fail(file, opOffset, `a text argument of ${end - pos} bytes is longer than any pickle writes`);
    }
    const text = latin1(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const decodeUtf8 = (raw: Uint8Array): string => {
    try {
      return utf8.decode(raw);
    } catch {
      throw fail(file, opOffset, "a string is not valid UTF-8");
    }
  };
  // Reads `stack` when called, after the argument (which may pop a MARK and swap `stack`) is built.
  const push = (value: unknown): void => {
    stack.push(value);
  };
  const pop = (): unknown => {
    if (stack.length === 0) {
      throw fail(file, opOffset, "pops from an empty stack");
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) {
      throw fail(file, opOffset, "reads the top of an empty stack");
    }
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (previous === undefined) {
      throw fail(file, opOffset, MARK_MISSING);
    }
    stack = previous;
    return items;
  };
  const long = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) {
      return 0;
    }
    if (raw.length > MAX_LONG_BYTES) {
      throw fail(file, opOffset, `an integer of ${raw.length} bytes is larger than any checkpoint holds`);
    }
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) {
      value = (value << 8n) | BigInt(raw[i] as number);
    }
    if (((raw[raw.length - 1] as number) & 0x80) !== 0) {
      value -= 1n << BigInt(8 * raw.length);
    }
    return narrow(value);
  };
  const global = (module: string, name: string): unknown => {
    if (!/^[A-Za-z_][\w.]*$/.test(module) || !/^[A-Za-z_][\w.]*$/.test(name)) {
      throw fail(file, opOffset, `global ${JSON.stringify(`${module} ${name}`)} is not a Python name`);
    }
    return resolveGlobal(module, name, opOffset);
  };
  const call = (callable: unknown, args: unknown, opcode: string): unknown => {
    if (!(args instanceof PickleTuple)) {
      throw fail(file, opOffset, `${opcode} needs an argument tuple, got ${describe(args)}`);
    }
    if (callable instanceof OpaqueGlobal) {
      return new OpaqueObject(callable, args.items);
    }
    if (isCallable(callable)) {
      return callable.call(args.items, opOffset);
    }
    throw fail(file, opOffset, `${opcode} calls a ${describe(callable)}, which is not a global`);
  };
  const setItems = (target: unknown, items: readonly unknown[]): void => {
    if (items.length % 2 !== 0) {
      throw fail(file, opOffset, "SETITEMS has an odd number of items");
    }
    const map = target instanceof Map ? target : target instanceof OpaqueObject ? target.dictItems : null;
    if (map === null) {
      throw fail(file, opOffset, `sets items on a ${describe(target)}`);
    }
    for (let i = 0; i < items.length; i += 2) {
      map.set(items[i], items[i + 1]);
    }
  };
  const append = (target: unknown, items: readonly unknown[]): void => {
    const list = Array.isArray(target) ? target : target instanceof OpaqueObject ? target.listItems : null;
    if (list === null) {
      throw fail(file, opOffset, `appends to a ${describe(target)}`);
    }
    for (const item of items) {
      list.push(item);
    }
  };
  const memoGet = (index: number): unknown => {
    if (!memo.has(index)) {
      throw fail(file, opOffset, `memo entry ${index} is read before it is written`);
    }
    return memo.get(index);
  };

  for (;;) {
    opOffset = pos;
    const opcode = u8();
    switch (opcode) {
      case 0x80: // PROTO
        if (u8() > 5) {
          throw fail(file, opOffset, `pickle protocol ${bytes[pos - 1]} is newer than 5`);
        }
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) {
          throw fail(
            file,
            opOffset,
            `STOP with ${stack.length} values and ${marks.length} marks left (expected one value)`,
          );
        }
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) {
          popMark();
        } else {
          stack.pop();
        }
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(long(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const length = i32();
        if (length < 0) {
          throw fail(file, opOffset, `LONG4 with negative length ${length}`);
        }
        push(long(take(length)));
        break;
      }
      case 0x49: {
        // INT (text); "I01"/"I00" are True/False in protocol 0
        const text = line();
        if (text === "01" || text === "00") {
          push(text === "01");
        } else {
          push(parseInteger(text, file, opOffset));
        }
        break;
      }
      case 0x4c: // LONG (text)
        push(parseInteger(line().replace(/L$/, ""), file, opOffset));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        push(data.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT (text)
        const text = line();
        const value = Number(text);
        if (text.trim() === "" || (Number.isNaN(value) && !/^[-+]?nan$/i.test(text.trim()))) {
          throw fail(file, opOffset, `FLOAT ${JSON.stringify(text)} is not a number`);
        }
        push(value);
        break;
      }
      case 0x58: // BINUNICODE
        push(decodeUtf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(decodeUtf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(decodeUtf8(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(rawUnicodeEscape(line()));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str, read as latin-1)
        const length = i32();
        if (length < 0) {
          throw fail(file, opOffset, `BINSTRING with negative length ${length}`);
        }
        push(latin1(take(length)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(latin1(take(u8())));
        break;
      case 0x53: // STRING (a quoted Python 2 repr)
        push(pythonStringRepr(line(), file, opOffset));
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PickleTuple([]));
        break;
      case 0x85: // TUPLE1
        push(new PickleTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(new PickleTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const map = new Map();
        setItems(map, items);
        push(map);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) {
          throw fail(file, opOffset, `ADDITEMS on a ${describe(set)}`);
        }
        for (const item of items) {
          set.add(item);
        }
        break;
      }
      case 0x91: // FROZENSET
        push(new Set(popMark()));
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        append(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x70: // PUT
        memo.set(parseMemoIndex(line(), file, opOffset), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
        push(memoGet(parseMemoIndex(line(), file, opOffset)));
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          throw fail(file, opOffset, "STACK_GLOBAL needs two strings");
        }
        push(global(module, name));
        break;
      }
      case 0x69: {
        // INST: module\nname\n, arguments since MARK
        const module = line();
        const name = line();
        const callable = global(module, name);
        push(call(callable, new PickleTuple(popMark()), "INST"));
        break;
      }
      case 0x6f: {
        // OBJ: class and arguments since MARK
        const items = popMark();
        if (items.length === 0) {
          throw fail(file, opOffset, "OBJ without a class");
        }
        push(call(items[0], new PickleTuple(items.slice(1)), "OBJ"));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        push(call(callable, args, "REDUCE"));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        push(call(cls, args, "NEWOBJ"));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size !== 0) {
          if (!(cls instanceof OpaqueGlobal)) {
            throw fail(file, opOffset, "NEWOBJ_EX with keyword arguments");
          }
        }
        push(call(cls, args, "NEWOBJ_EX"));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (target instanceof OpaqueObject) {
          target.state = state;
        } else if (target instanceof Map && isAttributeState(state)) {
          // `state_dict()` is an OrderedDict with a `_metadata` attribute: pickled as BUILD with
          // {"_metadata": …}. Attributes of dicts are kept aside, never interpreted.
          Object.defineProperty(target, PICKLE_ATTRIBUTES, { value: state, configurable: true });
        } else if (!isEmptyState(state)) {
          throw fail(
            file,
            opOffset,
            `BUILD sets state on a ${describe(target)}, which this reader does not restore`,
            "only tensors, storages and dicts are read; load the file with weightsOnly (skip) if the rest is not needed",
          );
        }
        break;
      }
      case 0x50: // PERSID
        push(persistent(line()));
        break;
      case 0x51: // BINPERSID
        push(persistent(pop()));
        break;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw fail(
          file,
          opOffset,
          "the copyreg extension registry (EXT opcodes) is not supported",
          "save the file with torch.save",
        );
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw fail(
          file,
          opOffset,
          "out-of-band buffers (protocol 5) are not supported",
          "save the file with torch.save",
        );
      default:
        throw fail(file, opOffset, `unknown opcode 0x${opcode.toString(16).padStart(2, "0")}`);
    }
  }

  function persistent(pid: unknown): unknown {
    if (options.persistentLoad === undefined) {
      throw fail(
        file,
        opOffset,
        "a persistent id appears, but no persistentLoad was given",
        "read torch files with readTorchCheckpoint",
      );
    }
    return options.persistentLoad(pid, opOffset);
  }
}

function isCallable(value: unknown): value is PickleCallable {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { call?: unknown }).call === "function" &&
    typeof (value as { module?: unknown }).module === "string"
  );
}

/** BUILD state that only sets attributes: a dict, or a (dict or None, slots dict or None) pair. */
function isAttributeState(state: unknown): boolean {
  if (state instanceof Map) {
    return true;
  }
  return (
    state instanceof PickleTuple &&
    state.items.length === 2 &&
    state.items.every((item) => item === null || item instanceof Map)
  );
}

function isEmptyState(state: unknown): boolean {
  return (
    state === null ||
    (state instanceof Map && state.size === 0) ||
    (state instanceof PickleTuple && state.items.every((item) => isEmptyState(item)))
  );
}

/** A bigint as a number when it fits exactly. */
function narrow(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

function parseInteger(text: string, file: string, offset: number): number | bigint {
  const trimmed = text.trim();
  if (!/^[-+]?\d{1,1000}$/.test(trimmed)) {
    throw fail(file, offset, `${JSON.stringify(text.slice(0, 40))} is not an integer`);
  }
  return narrow(BigInt(trimmed));
}

function parseMemoIndex(text: string, file: string, offset: number): number {
  const value = parseInteger(text, file, offset);
  if (typeof value !== "number" || value < 0) {
    throw fail(file, offset, `memo index ${text} is out of range`);
  }
  return value;
}

function latin1(raw: Uint8Array): string {
  let out = "";
  for (let i = 0; i < raw.length; i += 8192) {
    out += String.fromCharCode(...raw.subarray(i, i + 8192));
  }
  return out;
}

function rawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (match, short?: string, long?: string) => {
    const code = parseInt(short ?? long ?? "", 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : match;
  });
}

function pythonStringRepr(text: string, file: string, offset: number): string {
  const quote = text[0];
  if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) {
    throw fail(file, offset, "STRING argument is not a quoted string");
  }
  const escapes: Record<string, string> = {
    n: "\n",
    t: "\t",
    r: "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "0": "\0",
  };
  return text
    .slice(1, -1)
    .replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, escape: string) =>
      escape.startsWith("x") && escape.length === 3
        ? String.fromCharCode(parseInt(escape.slice(1), 16))
        : (escapes[escape] ?? `\\${escape}`),
    );
}
