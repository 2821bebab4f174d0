import { OpaqueGlobal } from "./pickle-values.js";
import { ForbiddenGlobalError } from "./torch-checkpoint-error.js";
import { torchRebuilders, torchStorageLoader, type TorchStorageFactory } from "./torch-rebuilders.js";

// Callers name the classes the hooks produce with the hooks.
export { TorchDtypeObject, TorchStorageType } from "./torch-rebuilders.js";

// Which globals a torch pickle may name: those with a stand-in in torch-rebuilders; with
// unknownGlobals "skip", any other as an `OpaqueGlobal` placeholder that is never called; never the
// modules hostile pickles use to run code. Everything else stops the machine with ForbiddenGlobalError.

/** What unknown globals become: refused (the default), or opaque placeholders that are never called. */
export type UnknownGlobals = "refuse" | "skip";

// Modules whose globals no checkpoint needs and hostile pickles use to run code. They are refused
// even when unknown globals are skipped, so that such a file fails loudly instead of loading.
const DENIED_MODULES = new Set([
  "os",
  "posix",
  "nt",
  "subprocess",
  "sys",
  "shutil",
  "socket",
  "importlib",
  "pickle",
  "_pickle",
  "marshal",
  "runpy",
  "code",
  "codeop",
  "ctypes",
  "pty",
  "webbrowser",
  "functools",
  "operator",
  "types",
  "builtins",
  "__builtin__",
  "commands",
  "platform",
  "multiprocessing",
  "asyncio",
  "threading",
  "io",
  "tempfile",
  "pathlib",
  "posixpath",
  "ntpath",
  "http",
  "urllib",
  "requests",
]);

// Builtin constructors of plain values that training state may hold: placeholders when skipping.
const SKIPPABLE_BUILTINS = new Set(
  ["slice", "complex", "range", "bytearray", "bytes"].flatMap((name) => [
    `builtins.${name}`,
    `__builtin__.${name}`,
  ]),
);

/**
 * The allow-list and the persistent-id loader for one torch file. `file` names the file in errors;
 * `storage(key, dtype, numel, location, offset)` makes (or reuses) the storage a persistent id names.
 */
export function torchPickleHooks(params: {
  file: string;
  unknownGlobals: UnknownGlobals;
  storage: TorchStorageFactory;
}): {
  resolveGlobal: (module: string, name: string, offset: number) => unknown;
  persistentLoad: (pid: unknown, offset: number) => unknown;
} {
  const { file } = params;
  const allowed = torchRebuilders({ file });

  return {
    resolveGlobal: (module, name, offset) => {
      const value = allowed.get(`${module}.${name}`);
      if (value !== undefined) {
        return value;
      }
      const root = module.split(".")[0] as string;
      const denied =
        DENIED_MODULES.has(root) &&
        !(params.unknownGlobals === "skip" && SKIPPABLE_BUILTINS.has(`${root}.${name}`));
      if (params.unknownGlobals === "skip" && !denied) {
        return new OpaqueGlobal(module, name);
      }
      throw new ForbiddenGlobalError({
        file,
        module,
        name,
        offset,
        fix: denied
          ? "this file tries to run code when it is unpickled; do not load it with torch.load, and delete it unless you trust its source"
          : params.unknownGlobals === "skip"
            ? "the global is refused even when skipping"
            : 'if the file also holds training state (a DeepSpeed mp_rank_* file), read it with unknownGlobals: "skip" to keep the tensors and leave the rest as opaque placeholders',
      });
    },
    persistentLoad: torchStorageLoader(params),
  };
}
