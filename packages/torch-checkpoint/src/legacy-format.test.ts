import { describe, expect, it } from "vitest";
import { parseTorchCheckpoint } from "./torch-checkpoint.js";
import { legacyCheckpoint } from "../test/helpers.js";

describe("legacy (pre-1.6) torch files", () => {
  it("reads a file whose pickles run past the first 64 KiB read", async () => {
    const tensors: Array<[string, Float32Array]> = Array.from({ length: 1500 }, (_, i) => [
      `layers.${i}.weight`,
      Float32Array.from({ length: 3 + (i % 5) }, (_, j) => i + j / 8),
    ]);
    const bytes = await legacyCheckpoint(tensors);
    const checkpoint = await parseTorchCheckpoint(bytes);
    expect(checkpoint.format).toBe("legacy");
    const found = checkpoint.tensors();
    expect(found.size).toBe(1500);
    for (const [name, values] of [tensors[0]!, tensors[777]!, tensors[1499]!]) {
      const read = await checkpoint.read(found.get(name)!);
      expect(read.data).toEqual(values);
    }
  });

  it("names a storage that runs past the end of the file", async () => {
    const bytes = await legacyCheckpoint([["w", Float32Array.of(1, 2, 3)]]);
    await expect(
      parseTorchCheckpoint(bytes.subarray(0, bytes.length - 4), { name: "short.bin" }),
    ).rejects.toThrow(
      /short\.bin: storage 1000 at offset \d+: holds 3 elements .* or runs past the end of the file/,
    );
  });
});
