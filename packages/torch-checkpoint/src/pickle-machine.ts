import { checkpointError } from "./torch-checkpoint-error.js";
import { PickleCursor } from "./pickle-cursor.js";
import {
  decodeLong,
  latin1,
  parseFloatText,
  parseIntegerText,
  pythonStringRepr,
  rawUnicodeEscape,
} from "./pickle-scalars.js";
import {
  OpaqueGlobal,
  OpaqueObject,
  PICKLE_ATTRIBUTES,
  PickleTuple,
  type PickleCallable,
} from "./pickle-values.js";

// Callers import the values `unpickle` builds, and its truncation test, with it.
export { isTruncatedPickle } from "./pickle-cursor.js";
export * from "./pickle-values.js";

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
// Reading opcode arguments is `PickleCursor`'s; decoding numbers and strings is pickle-scalars'.

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

const MARK_MISSING = "no MARK on the stack";
const MAX_LONG_BYTES = 4096;

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
  const input = new PickleCursor(bytes, options.file ?? "<pickle>", options.start ?? 0);
  const resolveGlobal = options.resolveGlobal ?? refuseGlobal;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  // Reads `stack` when called, after the argument (which may pop a MARK and swap `stack`) is built.
  const push = (value: unknown): void => {
    stack.push(value);
  };
  const pop = (): unknown => {
    if (stack.length === 0) {
      throw input.fail("pops from an empty stack");
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) {
      throw input.fail("reads the top of an empty stack");
    }
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (previous === undefined) {
      throw input.fail(MARK_MISSING);
    }
    stack = previous;
    return items;
  };
  const long = (raw: Uint8Array): number | bigint => {
    if (raw.length > MAX_LONG_BYTES) {
      throw input.fail(`an integer of ${raw.length} bytes is larger than any checkpoint holds`);
    }
    return decodeLong(raw);
  };
  const integer = (text: string): number | bigint => {
    const value = parseIntegerText(text);
    if (value === null) {
      throw input.fail(`${JSON.stringify(text.slice(0, 40))} is not an integer`);
    }
    return value;
  };
  const memoIndex = (text: string): number => {
    const value = integer(text);
    if (typeof value !== "number" || value < 0) {
      throw input.fail(`memo index ${text} is out of range`);
    }
    return value;
  };
  const pythonString = (text: string): string => {
    const value = pythonStringRepr(text);
    if (value === null) {
      throw input.fail("STRING argument is not a quoted string");
    }
    return value;
  };
  const global = (module: string, name: string): unknown => {
    if (!/^[A-Za-z_][\w.]*$/.test(module) || !/^[A-Za-z_][\w.]*$/.test(name)) {
      throw input.fail(`global ${JSON.stringify(`${module} ${name}`)} is not a Python name`);
    }
    return resolveGlobal(module, name, input.opOffset);
  };
  const call = (callable: unknown, args: unknown, opcode: string): unknown => {
    if (!(args instanceof PickleTuple)) {
      throw input.fail(`${opcode} needs an argument tuple, got ${describe(args)}`);
    }
    if (callable instanceof OpaqueGlobal) {
      return new OpaqueObject(callable, args.items);
    }
    if (isCallable(callable)) {
      return callable.call(args.items, input.opOffset);
    }
    throw input.fail(`${opcode} calls a ${describe(callable)}, which is not a global`);
  };
  const setItems = (target: unknown, items: readonly unknown[]): void => {
    if (items.length % 2 !== 0) {
      throw input.fail("SETITEMS has an odd number of items");
    }
    const map = target instanceof Map ? target : target instanceof OpaqueObject ? target.dictItems : null;
    if (map === null) {
      throw input.fail(`sets items on a ${describe(target)}`);
    }
    for (let i = 0; i < items.length; i += 2) {
      map.set(items[i], items[i + 1]);
    }
  };
  const append = (target: unknown, items: readonly unknown[]): void => {
    const list = Array.isArray(target) ? target : target instanceof OpaqueObject ? target.listItems : null;
    if (list === null) {
      throw input.fail(`appends to a ${describe(target)}`);
    }
    for (const item of items) {
      list.push(item);
    }
  };
  const memoGet = (index: number): unknown => {
    if (!memo.has(index)) {
      throw input.fail(`memo entry ${index} is read before it is written`);
    }
    return memo.get(index);
  };
  const persistent = (pid: unknown): unknown => {
    if (options.persistentLoad === undefined) {
      throw input.fail(
        "a persistent id appears, but no persistentLoad was given",
        "read torch files with readTorchCheckpoint",
      );
    }
    return options.persistentLoad(pid, input.opOffset);
  };

  for (;;) {
    input.opOffset = input.pos;
    const opcode = input.u8();
    switch (opcode) {
      case 0x80: // PROTO
        if (input.u8() > 5) {
          throw input.fail(`pickle protocol ${input.bytes[input.pos - 1]} is newer than 5`);
        }
        break;
      case 0x95: // FRAME
        input.u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) {
          throw input.fail(
            `STOP with ${stack.length} values and ${marks.length} marks left (expected one value)`,
          );
        }
        return { value: stack[0], end: input.pos };
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
        push(input.i32());
        break;
      case 0x4b: // BININT1
        push(input.u8());
        break;
      case 0x4d: // BININT2
        push(input.u16());
        break;
      case 0x8a: // LONG1
        push(long(input.take(input.u8())));
        break;
      case 0x8b: {
        // LONG4
        const length = input.i32();
        if (length < 0) {
          throw input.fail(`LONG4 with negative length ${length}`);
        }
        push(long(input.take(length)));
        break;
      }
      case 0x49: {
        // INT (text); "I01"/"I00" are True/False in protocol 0
        const text = input.line();
        if (text === "01" || text === "00") {
          push(text === "01");
        } else {
          push(integer(text));
        }
        break;
      }
      case 0x4c: // LONG (text)
        push(integer(input.line().replace(/L$/, "")));
        break;
      case 0x47: // BINFLOAT (big-endian)
        push(input.f64be());
        break;
      case 0x46: {
        // FLOAT (text)
        const text = input.line();
        const value = parseFloatText(text);
        if (value === null) {
          throw input.fail(`FLOAT ${JSON.stringify(text)} is not a number`);
        }
        push(value);
        break;
      }
      case 0x58: // BINUNICODE
        push(input.utf8Text(input.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(input.utf8Text(input.u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(input.utf8Text(input.u64()));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(rawUnicodeEscape(input.line()));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str, read as latin-1)
        const length = input.i32();
        if (length < 0) {
          throw input.fail(`BINSTRING with negative length ${length}`);
        }
        push(latin1(input.take(length)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(latin1(input.take(input.u8())));
        break;
      case 0x53: // STRING (a quoted Python 2 repr)
        push(pythonString(input.line()));
        break;
      case 0x42: // BINBYTES
        push(input.take(input.u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(input.take(input.u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(input.take(input.u64()).slice());
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
          throw input.fail(`ADDITEMS on a ${describe(set)}`);
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
        memo.set(memoIndex(input.line()), top());
        break;
      case 0x71: // BINPUT
        memo.set(input.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(input.u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
        push(memoGet(memoIndex(input.line())));
        break;
      case 0x68: // BINGET
        push(memoGet(input.u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(input.u32()));
        break;
      case 0x63: {
        // GLOBAL
        const module = input.line();
        const name = input.line();
        push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          throw input.fail("STACK_GLOBAL needs two strings");
        }
        push(global(module, name));
        break;
      }
      case 0x69: {
        // INST: module\nname\n, arguments since MARK
        const module = input.line();
        const name = input.line();
        const callable = global(module, name);
        push(call(callable, new PickleTuple(popMark()), "INST"));
        break;
      }
      case 0x6f: {
        // OBJ: class and arguments since MARK
        const items = popMark();
        if (items.length === 0) {
          throw input.fail("OBJ without a class");
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
            throw input.fail("NEWOBJ_EX with keyword arguments");
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
          throw input.fail(
            `BUILD sets state on a ${describe(target)}, which this reader does not restore`,
            "only tensors, storages and dicts are read; load the file with weightsOnly (skip) if the rest is not needed",
          );
        }
        break;
      }
      case 0x50: // PERSID
        push(persistent(input.line()));
        break;
      case 0x51: // BINPERSID
        push(persistent(pop()));
        break;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw input.fail(
          "the copyreg extension registry (EXT opcodes) is not supported",
          "save the file with torch.save",
        );
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw input.fail(
          "out-of-band buffers (protocol 5) are not supported",
          "save the file with torch.save",
        );
      default:
        throw input.fail(`unknown opcode 0x${opcode.toString(16).padStart(2, "0")}`);
    }
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
