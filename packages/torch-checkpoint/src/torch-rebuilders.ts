import { PickleTuple, type PickleCallable } from "./pickle-values.js";
import { torchFormatError } from "./torch-format-error.js";
import {
  TORCH_DTYPE_NAMES,
  TORCH_STORAGE_DTYPES,
  TorchStorage,
  TorchTensor,
  tensorSpan,
  type TorchDtype,
} from "./torch-tensor.js";

// What the allow-listed globals of a torch pickle build, in JavaScript and from their arguments only:
// tensor descriptions (torch._utils._rebuild_tensor_v2 and its relatives: a storage, an offset and a
// strided view checked to stay inside it), the storage classes and dtype objects, the storages that
// persistent ids name, and the few plain values state dicts hold (OrderedDict, sets, torch.Size,
// torch.device, protocol 2's bytes). Which globals are allowed at all is torch-globals'.

/** The `torch.<Name>Storage` class named in a persistent id. */
export class TorchStorageType {
  constructor(
    readonly name: string,
    readonly dtype: TorchDtype,
  ) {}
}

/** A `torch.<dtype>` object (`torch.float16`, …). */
export class TorchDtypeObject {
  constructor(
    readonly name: string,
    readonly dtype: TorchDtype,
  ) {}
}

/** Makes (or reuses) the storage a persistent id names: `(key, type, numel, location, offset)`. */
export type TorchStorageFactory = (
  key: string,
  type: TorchStorageType,
  numel: number | null,
  location: string,
  offset: number,
) => TorchStorage;

function callable(module: string, name: string, call: PickleCallable["call"]): PickleCallable {
  return { module, name, call };
}

function integer(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function integerTuple(value: unknown): number[] | null {
  const items = value instanceof PickleTuple ? value.items : Array.isArray(value) ? value : null;
  return items !== null && items.every(integer) ? (items as number[]) : null;
}

function formatError(file: string): (offset: number, what: string) => Error {
  return (offset, what) => torchFormatError(file, `pickle offset ${offset}`, what);
}

/**
 * The stand-ins of the allow-listed globals, by qualified name (`torch._utils._rebuild_tensor_v2`):
 * `PickleCallable`s, storage classes and dtype objects. `file` names the file in errors.
 */
export function torchRebuilders(params: { file: string }): Map<string, unknown> {
  const bad = formatError(params.file);

  const rebuildTensor = (args: readonly unknown[], offset: number, name: string): TorchTensor => {
    const [storage, storageOffset, size, stride, requiresGrad] = args;
    if (!(storage instanceof TorchStorage)) {
      throw bad(offset, `${name}: the first argument is not a storage`);
    }
    const shape = integerTuple(size);
    const strides = integerTuple(stride);
    if (!integer(storageOffset) || shape === null || strides === null || shape.length !== strides.length) {
      throw bad(
        offset,
        `${name}: storage offset, size and stride must be non-negative integers of equal rank`,
      );
    }
    const numel = shape.reduce((product, value) => product * value, 1);
    const end = storageOffset + tensorSpan({ shape, stride: strides });
    if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(end) || (numel > 0 && end > storage.numel)) {
      throw bad(
        offset,
        `${name}: a tensor of size (${shape.join(", ")}) stride (${strides.join(", ")}) at offset ${storageOffset} reaches element ${end}, past its storage's ${storage.numel}`,
      );
    }
    return new TorchTensor(storage, storageOffset, shape, strides, requiresGrad === true);
  };

  const allowed = new Map<string, unknown>();
  const allow = (entry: PickleCallable | { module: string; name: string; value: unknown }): void => {
    allowed.set(`${entry.module}.${entry.name}`, "value" in entry ? entry.value : entry);
  };
  allow(
    callable("torch._utils", "_rebuild_tensor_v2", (args, offset) => {
      if (args.length < 6 || args.length > 7) {
        throw bad(offset, `_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
      }
      return rebuildTensor(args, offset, "_rebuild_tensor_v2");
    }),
  );
  allow(
    callable("torch._utils", "_rebuild_tensor", (args, offset) => {
      if (args.length !== 4) {
        throw bad(offset, `_rebuild_tensor takes 4 arguments, got ${args.length}`);
      }
      return rebuildTensor([...args, false], offset, "_rebuild_tensor");
    }),
  );
  for (const name of ["_rebuild_parameter", "_rebuild_parameter_with_state"]) {
    allow(
      callable("torch._utils", name, (args, offset) => {
        const [data, requiresGrad] = args;
        if (!(data instanceof TorchTensor)) {
          throw bad(offset, `${name}: the first argument is not a tensor`);
        }
        return new TorchTensor(
          data.storage,
          data.storageOffset,
          data.shape,
          data.stride,
          requiresGrad === true,
        );
      }),
    );
  }
  allow(
    callable("torch._tensor", "_rebuild_from_type_v2", (args, offset) => {
      const [func, type, inner] = args;
      const typeName =
        type === null || typeof type !== "object"
          ? ""
          : `${(type as { module?: string }).module}.${(type as { name?: string }).name}`;
      if (typeName !== "torch.nn.parameter.Parameter" && typeName !== "torch.Tensor") {
        throw bad(offset, `_rebuild_from_type_v2: type ${typeName || String(type)} is not a tensor type`);
      }
      if (
        func === null ||
        typeof func !== "object" ||
        typeof (func as PickleCallable).call !== "function" ||
        !(inner instanceof PickleTuple)
      ) {
        throw bad(
          offset,
          "_rebuild_from_type_v2: expected an allowed rebuild function and an argument tuple",
        );
      }
      return (func as PickleCallable).call(inner.items, offset);
    }),
  );
  for (const [module, name] of [
    ["torch.nn.parameter", "Parameter"],
    ["torch", "Tensor"],
  ] as const) {
    allow(
      callable(module, name, (_args, offset) => {
        throw bad(offset, `${module}.${name} is only allowed as _rebuild_from_type_v2's type`);
      }),
    );
  }
  allow(
    callable("collections", "OrderedDict", (args, offset) => {
      const map = new Map<unknown, unknown>();
      if (args.length === 0) {
        return map;
      }
      if (args.length === 1 && Array.isArray(args[0])) {
        for (const pair of args[0]) {
          if (!(pair instanceof PickleTuple) || pair.items.length !== 2) {
            throw bad(offset, "OrderedDict: expected a list of (key, value) pairs");
          }
          map.set(pair.items[0], pair.items[1]);
        }
        return map;
      }
      throw bad(offset, "OrderedDict: expected no arguments or a list of pairs");
    }),
  );
  allow(
    callable("torch", "Size", (args, offset) => {
      const dims = integerTuple(args[0]);
      if (args.length !== 1 || dims === null) {
        throw bad(offset, "torch.Size: expected one tuple of integers");
      }
      return new PickleTuple(dims);
    }),
  );
  allow(
    callable("torch", "device", (args, offset) => {
      if (!args.every((arg) => typeof arg === "string" || integer(arg))) {
        throw bad(offset, "torch.device: expected a device name");
      }
      return args.join(":");
    }),
  );
  allow(
    callable("_codecs", "encode", (args, offset) => {
      const [text, encoding] = args;
      if (typeof text !== "string" || (encoding !== "latin1" && encoding !== "latin-1")) {
        throw bad(offset, "_codecs.encode: only latin1 text (how protocol 2 spells bytes) is read");
      }
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code > 0xff) {
          throw bad(offset, "_codecs.encode: a character does not fit in latin1");
        }
        out[i] = code;
      }
      return out;
    }),
  );
  // Protocol 2 spells Python 3 sets `__builtin__.set(list)`; DeepSpeed states hold some (e.g.
  // sparse_tensor_module_names). Built here as JS Sets; no other builtin is ever called.
  for (const module of ["__builtin__", "builtins"]) {
    for (const name of ["set", "frozenset"]) {
      allow(
        callable(module, name, (args, offset) => {
          const [items] = args;
          if (args.length === 0) {
            return new Set();
          }
          const values = Array.isArray(items)
            ? items
            : items instanceof PickleTuple
              ? items.items
              : items instanceof Set
                ? [...items]
                : null;
          if (args.length !== 1 || values === null) {
            throw bad(offset, `${name}: expected one list, tuple or set`);
          }
          return new Set(values);
        }),
      );
    }
  }
  for (const [name, dtype] of Object.entries(TORCH_STORAGE_DTYPES)) {
    allow({ module: "torch", name, value: new TorchStorageType(name, dtype) });
  }
  for (const [name, dtype] of Object.entries(TORCH_DTYPE_NAMES)) {
    allow({ module: "torch", name, value: new TorchDtypeObject(name, dtype) });
  }

  return allowed;
}

/**
 * The persistent-id loader of a torch file: checks a `('storage', type, key, location, numel)` id and
 * hands it to `storage`. `file` names the file in errors.
 */
export function torchStorageLoader(params: {
  file: string;
  storage: TorchStorageFactory;
}): (pid: unknown, offset: number) => unknown {
  const bad = formatError(params.file);
  return (pid, offset) => {
    const items = pid instanceof PickleTuple ? pid.items : null;
    if (items === null || items[0] !== "storage" || (items.length !== 5 && items.length !== 6)) {
      throw bad(offset, "a persistent id is not a ('storage', type, key, location, numel) tuple");
    }
    const [, type, key, location, numel, view] = items;
    if (!(type instanceof TorchStorageType)) {
      throw bad(offset, "a persistent id's storage type is not a torch.*Storage class");
    }
    if (typeof key !== "string" || typeof location !== "string" || !(numel === null || integer(numel))) {
      throw bad(offset, "a persistent id's key, location or size has the wrong type");
    }
    const storage = params.storage(key, type, numel, location, offset);
    if (view === undefined || view === null) {
      return storage;
    }
    // Legacy files of torch < 0.4 stored views as (view key, offset, size) of a root storage.
    throw bad(offset, "storage views of torch < 0.4 are not supported");
  };
}
