import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelError, SafetensorsError } from "./model-errors.js";
import { readSafetensors } from "./safetensors.js";
import { MAX_TENSOR_BYTES } from "./safetensors-limits.js";

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pythia-safetensors-limits-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A sparse file whose header claims one tensor of `bytes` bytes (nothing is allocated or written). */
async function sparseFile(name: string, dtype: string, bytes: number): Promise<string> {
  const path = join(scratch, name);
  const itemBytes = dtype === "F32" ? 4 : 2;
  const json = new TextEncoder().encode(
    `{"huge":{"dtype":"${dtype}","shape":[${bytes / itemBytes}],"data_offsets":[0,${bytes}]}}`,
  );
  const header = new Uint8Array(8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(json.length), true);
  header.set(json, 8);
  const handle = await open(path, "w");
  try {
    await handle.truncate(header.length + bytes);
    await handle.write(header, 0, header.length, 0);
  } finally {
    await handle.close();
  }
  return path;
}

const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe("safetensors reader limits", () => {
  it("refuses a tensor over 4 GiB in one line naming it, before allocating", async () => {
    expect(MAX_TENSOR_BYTES).toBe(2 ** 32);
    const path = await sparseFile("huge.safetensors", "F32", 5 * 2 ** 30);
    const error = await caught(readSafetensors(path));
    expect(SafetensorsError.isInstance(error) && error.code).toBe("MODEL_INPUT");
    expect((error as Error).message).toBe(
      `${path}: tensor "huge": 5368709120 bytes (5.00 GiB) is more than the 4294967296 bytes (4.00 GiB) one JavaScript typed array can hold; skip it with a \`names\` filter, or save the checkpoint with that tensor split into smaller ones`,
    );
    // The other tensors stay readable with a names filter.
    expect((await readSafetensors(path, { names: (name) => name !== "huge" })).tensors.size).toBe(0);
  });

  it("counts the float32 decoding of a half-float tensor (3 GiB of F16 is 6 GiB decoded)", async () => {
    const path = await sparseFile("half.safetensors", "F16", 3 * 2 ** 30);
    expect(((await caught(readSafetensors(path))) as Error).message).toMatch(
      /: tensor "huge": 6442450944 bytes \(6\.00 GiB\) is more than/,
    );
  });

  it("says to pass the file inside when given a directory", async () => {
    const error = await caught(readSafetensors(scratch));
    expect(ModelError.isInstance(error) && error.code).toBe("MODEL_INPUT");
    expect((error as Error).message).toBe(
      `${scratch} is a directory; pass the model.safetensors file inside it`,
    );
  });
});
