import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PickleTuple, unpickle } from "./pickle-machine.js";
import { PickleOrderedDict } from "./pickle-writer.js";
import { openTorchCheckpoint, parseTorchCheckpoint } from "./torch-checkpoint.js";
import { pickleTorchObject, TorchTensorToSave, writeTorchCheckpoint } from "./torch-save.js";
import { readZipDirectory } from "./zip-reader.js";
import { bytesSource } from "./byte-source.js";

const dir = mkdtempSync(join(tmpdir(), "torch-save-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sampleStateDict(): PickleOrderedDict<TorchTensorToSave> {
  return new PickleOrderedDict([
    ["layer.weight", new TorchTensorToSave("F32", [2, 3], Float32Array.of(1, -2, 3.5, 4, 5e-8, -0))],
    ["layer.half", new TorchTensorToSave("F16", [2], Uint16Array.of(0x3c00, 0xc000))],
    ["layer.bf16", new TorchTensorToSave("BF16", [1, 2], Uint16Array.of(0x3f80, 0x4049))],
    ["steps", new TorchTensorToSave("I64", [3], BigInt64Array.of(-1n, 0n, 2n ** 40n))],
    ["empty", new TorchTensorToSave("F32", [0, 4], new Float32Array(0))],
  ]);
}

describe("writeTorchCheckpoint", () => {
  it.each([false, true])(
    "round-trips tensors and plain data through the reader (zip64 %s)",
    async (forceZip64) => {
      const path = join(dir, `round-trip-${forceZip64}.pt`);
      const value = new Map<unknown, unknown>([
        ["module", sampleStateDict()],
        [
          "meta",
          new PickleTuple([
            0,
            255,
            256,
            65536,
            -1,
            -(2 ** 31),
            2 ** 31,
            2 ** 53 - 1,
            0.25,
            "α",
            null,
            true,
            false,
          ]),
        ],
        ["list", [1, [2, new PickleTuple([])]]],
      ]);
      await writeTorchCheckpoint(path, value, { forceZip64 });
      const bytes = readFileSync(path);
      expect(bytes.readUInt32LE(0)).toBe(0x04034b50);
      if (forceZip64) {
        expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
      }
      const entries = await readZipDirectory(bytesSource(bytes));
      expect([...entries.keys()]).toEqual([
        `round-trip-${forceZip64}/data.pkl`,
        `round-trip-${forceZip64}/byteorder`,
        ...[0, 1, 2, 3, 4].map((key) => `round-trip-${forceZip64}/data/${key}`),
        `round-trip-${forceZip64}/version`,
      ]);
      const checkpoint = await openTorchCheckpoint(path);
      try {
        const root = checkpoint.root as Map<string, unknown>;
        expect((root.get("meta") as PickleTuple).items).toEqual([
          0,
          255,
          256,
          65536,
          -1,
          -(2 ** 31),
          2 ** 31,
          2 ** 53 - 1,
          0.25,
          "α",
          null,
          true,
          false,
        ]);
        expect(root.get("list")).toEqual([1, [2, new PickleTuple([])]]);
        const tensors = checkpoint.tensors();
        expect([...tensors.keys()]).toEqual([...sampleStateDict().keys()].map((name) => `module.${name}`));
        for (const [name, saved] of sampleStateDict()) {
          const read = await checkpoint.read(tensors.get(`module.${name}`)!);
          expect(read.dtype).toBe(saved.dtype);
          expect(read.shape).toEqual(saved.shape);
          expect(read.data).toEqual(saved.data);
        }
      } finally {
        await checkpoint.close();
      }
    },
  );

  it("aligns every storage to 64 bytes like torch.save", async () => {
    const path = join(dir, "aligned.pt");
    await writeTorchCheckpoint(path, sampleStateDict());
    const checkpoint = await openTorchCheckpoint(path);
    for (const tensor of checkpoint.tensors().values()) {
      expect(tensor.storage.fileOffset % 64).toBe(0);
    }
    await checkpoint.close();
  });

  it("writes the pickle torch.save writes for a state dict (opcode by opcode)", () => {
    const { pickle } = pickleTorchObject(
      new PickleOrderedDict([["w", new TorchTensorToSave("F32", [2], Float32Array.of(1, 2))]]),
    );
    const text = new TextDecoder("latin1").decode(pickle);
    expect(text.startsWith("\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w")).toBe(true);
    expect(text).toContain(
      "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR",
    );
    expect(text.endsWith("u.")).toBe(true);
    expect(
      unpickle(pickle, {
        resolveGlobal: () => ({ module: "m", name: "n", call: () => new Map() }),
        persistentLoad: () => null,
      }).end,
    ).toBe(pickle.length);
  });

  it("parses what it writes from memory too", async () => {
    const path = join(dir, "memory.pt");
    await writeTorchCheckpoint(path, sampleStateDict(), { archiveName: "archive" });
    const checkpoint = await parseTorchCheckpoint(readFileSync(path));
    expect(checkpoint.format).toBe("zip");
    expect(checkpoint.tensors().size).toBe(5);
  });
});

describe("state dicts as torch.save writes them from state_dict()", () => {
  it("accepts the OrderedDict's _metadata attribute (BUILD) and keeps it aside", async () => {
    const { PickleWriter } = await import("./pickle-writer.js");
    const { PICKLE_ATTRIBUTES } = await import("./pickle-machine.js");
    const writer = new PickleWriter();
    writer.begin();
    writer.global("collections", "OrderedDict");
    writer.tuple([]);
    writer.reduce();
    writer.mark();
    writer.value("a");
    writer.value(1);
    writer.raw(0x75); // SETITEMS
    writer.value(new Map([["_metadata", new PickleOrderedDict([["", new Map([["version", 1]])]])]]));
    writer.raw(0x62); // BUILD
    writer.end();
    const { value } = unpickle(writer.result(), {
      resolveGlobal: () => ({ module: "collections", name: "OrderedDict", call: () => new Map() }),
    });
    expect(value).toEqual(new Map([["a", 1]]));
    const attributes = (value as { [PICKLE_ATTRIBUTES]?: Map<string, unknown> })[PICKLE_ATTRIBUTES];
    expect([...attributes!.keys()]).toEqual(["_metadata"]);
  });
});
