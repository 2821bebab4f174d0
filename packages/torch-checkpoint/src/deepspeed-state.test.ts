import { describe, expect, it } from "vitest";
import { OpaqueObject } from "./pickle-machine.js";
import { ForbiddenGlobalError } from "./torch-checkpoint-error.js";

// DeepSpeed's mp_rank_*_model_states.pt files hold training state besides the weights: argparse
// namespaces, numpy RNG state, sets. Read with unknownGlobals: "skip", those stay uncalled placeholders.

describe("what DeepSpeed training state holds", () => {
  it("reads sets and, when skipping, keeps other builtin values as placeholders, but never a code-running builtin", async () => {
    const { PickleWriter } = await import("./pickle-writer.js");
    const { torchPickleHooks } = await import("./torch-globals.js");
    const { unpickle } = await import("./pickle-machine.js");
    const build = (module: string, name: string, args: unknown[]) => {
      const writer = new PickleWriter();
      writer.begin();
      writer.global(module, name);
      writer.tuple(args);
      writer.reduce();
      writer.end();
      return writer.result();
    };
    const hooks = (unknownGlobals: "refuse" | "skip") =>
      torchPickleHooks({
        file: "state.pt",
        unknownGlobals,
        storage: () => {
          throw new Error("no storages");
        },
      });
    expect(unpickle(build("__builtin__", "set", [["a", "b"]]), hooks("refuse")).value).toEqual(
      new Set(["a", "b"]),
    );
    expect(unpickle(build("builtins", "frozenset", []), hooks("refuse")).value).toEqual(new Set());
    expect(unpickle(build("__builtin__", "slice", [0, 4, null]), hooks("skip")).value).toBeInstanceOf(
      OpaqueObject,
    );
    expect(() => unpickle(build("__builtin__", "slice", [0, 4, null]), hooks("refuse"))).toThrow(
      ForbiddenGlobalError,
    );
    for (const name of ["getattr", "eval", "exec", "__import__", "open"]) {
      expect(() => unpickle(build("builtins", name, ["x"]), hooks("skip")), name).toThrow(
        /refusing global builtins\.\w+.*do not load it with torch\.load/,
      );
    }
  });
});

describe("a DeepSpeed mp_rank file as GPT-NeoX writes it", () => {
  it("gives the module's tensors when skipping, with argparse, numpy and set state left uncalled", async () => {
    const { PickleWriter, PickleOrderedDict } = await import("./pickle-writer.js");
    const { pickleTorchObject, TorchTensorToSave } = await import("./torch-save.js");
    const { parseTorchCheckpoint } = await import("./torch-checkpoint.js");
    const { ZipWriter } = await import("./zip-writer.js");
    const { mkdtempSync, readFileSync } = await import("node:fs");
    const { open } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    // The module: an OrderedDict with `_metadata` (BUILD), as `state_dict()` pickles.
    const module = new PickleOrderedDict([
      [
        "sequential.0.word_embeddings.weight",
        new TorchTensorToSave("F32", [2, 2], Float32Array.of(1, 2, 3, 4)),
      ],
    ]);
    const { pickle: modulePickle, storages } = pickleTorchObject(module);
    const writer = new PickleWriter();
    writer.begin();
    writer.raw(0x7d, 0x28); // EMPTY_DICT, MARK
    writer.value("module");
    writer.raw(...modulePickle.subarray(2, modulePickle.length - 1)); // the module's opcodes, without PROTO/STOP
    writer.value(new Map([["_metadata", new Map([["", new Map([["version", 1]])]])]]));
    writer.raw(0x62); // BUILD
    writer.value("args"); // argparse.Namespace(num_layers=2): NEWOBJ + BUILD
    writer.global("argparse", "Namespace");
    writer.tuple([]);
    writer.raw(0x81);
    writer.value(new Map([["num_layers", 2]]));
    writer.raw(0x62);
    writer.value("sparse_tensor_module_names"); // set()
    writer.global("__builtin__", "set");
    writer.value([]);
    writer.raw(0x85, 0x52);
    writer.value("np_rng_state"); // numpy.random.get_state(): (str, ndarray, int, int, float)
    writer.global("numpy.core.multiarray", "_reconstruct");
    writer.global("numpy", "ndarray");
    writer.tuple([0]);
    writer.global("_codecs", "encode");
    writer.tuple(["b", "latin1"]);
    writer.reduce();
    writer.raw(0x87, 0x52); // TUPLE3, REDUCE
    writer.tuple([1, [624], "state"]);
    writer.raw(0x62); // BUILD
    writer.value("iteration");
    writer.value(100);
    writer.raw(0x75); // SETITEMS
    writer.end();
    const path = `${mkdtempSync(`${tmpdir()}/mp-rank-`)}/mp_rank_00_model_states.pt`;
    const handle = await open(path, "w");
    const zip = new ZipWriter(handle);
    await zip.add("mp_rank_00_model_states/data.pkl", [writer.result()]);
    await zip.add("mp_rank_00_model_states/data/0", [new Uint8Array(storages[0]!.data.buffer)]);
    await zip.add("mp_rank_00_model_states/version", [new TextEncoder().encode("3\n")]);
    await zip.finish();
    await handle.close();

    const bytes = readFileSync(path);
    await expect(parseTorchCheckpoint(bytes)).rejects.toThrow(
      /refusing global argparse\.Namespace.*unknownGlobals: "skip"/,
    );
    const checkpoint = await parseTorchCheckpoint(bytes, { unknownGlobals: "skip" });
    const root = checkpoint.root as Map<string, unknown>;
    expect(root.get("iteration")).toBe(100);
    expect(root.get("sparse_tensor_module_names")).toEqual(new Set());
    expect((root.get("args") as OpaqueObject).state).toEqual(new Map([["num_layers", 2]]));
    expect((root.get("np_rng_state") as OpaqueObject).global).toMatchObject({
      module: "numpy.core.multiarray",
      name: "_reconstruct",
    });
    const tensors = checkpoint.tensors(root.get("module"));
    expect([...tensors.keys()]).toEqual(["sequential.0.word_embeddings.weight"]);
    expect((await checkpoint.read(tensors.get("sequential.0.word_embeddings.weight")!)).data).toEqual(
      Float32Array.of(1, 2, 3, 4),
    );
  });
});
