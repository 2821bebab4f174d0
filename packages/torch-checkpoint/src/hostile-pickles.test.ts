import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTorchCheckpoint, readTorchStateDict } from "./torch-checkpoint.js";
import { ForbiddenGlobalError } from "./torch-checkpoint-error.js";
import { OpaqueObject } from "./pickle-machine.js";
import { sharedFixture } from "@pythia/core/testing";

// The payloads of os-system.bin and builtins-eval.bin create this file when unpickled naively.
const MARKER = "/tmp/pythia-interop-pwned";
const malicious = sharedFixture("interop/malicious");
const suite = malicious === null ? describe.skip : describe;

suite("hostile pickles", () => {
  const dir = malicious as string;
  beforeAll(() => rmSync(MARKER, { force: true }));
  afterAll(() => expect(existsSync(MARKER), `${MARKER} exists: a payload ran`).toBe(false));

  it.each([
    ["os-system.bin", "posix", "system"],
    ["builtins-eval.bin", "__builtin__", "eval"],
    ["unknown-global.bin", "some_training_framework.state", "Unknown"],
  ])("%s is refused naming %s.%s, and nothing runs", async (file, module, name) => {
    const path = join(dir, file);
    const error = await openTorchCheckpoint(path).catch((caught: unknown) => caught);
    expect(ForbiddenGlobalError.isInstance(error)).toBe(true);
    const forbidden = error as ForbiddenGlobalError;
    expect(forbidden.code).toBe("FORBIDDEN_GLOBAL");
    expect([forbidden.module, forbidden.globalName]).toEqual([module, name]);
    expect(forbidden.message).toContain(path);
    expect(forbidden.message).toContain(`${module}.${name}`);
    expect(forbidden.message).toContain("nothing was executed");
    await expect(readTorchStateDict(path)).rejects.toThrow(ForbiddenGlobalError);
    expect(existsSync(MARKER)).toBe(false);
  });

  it.each(["os-system.bin", "builtins-eval.bin"])(
    "%s is refused even when unknown globals are skipped",
    async (file) => {
      await expect(openTorchCheckpoint(join(dir, file), { unknownGlobals: "skip" })).rejects.toSatisfy(
        (error: unknown) =>
          ForbiddenGlobalError.isInstance(error) && /do not load it with torch\.load/.test(error.message),
      );
      expect(existsSync(MARKER)).toBe(false);
    },
  );

  it("skipping keeps the tensors and leaves an unknown class as an uncalled placeholder", async () => {
    const checkpoint = await openTorchCheckpoint(join(dir, "unknown-global.bin"), { unknownGlobals: "skip" });
    try {
      const root = checkpoint.root as Map<string, unknown>;
      const state = root.get("state");
      expect(state).toBeInstanceOf(OpaqueObject);
      expect((state as OpaqueObject).global).toMatchObject({
        module: "some_training_framework.state",
        name: "Unknown",
      });
      expect([...checkpoint.tensors().keys()]).toEqual(["gpt_neox.embed_in.weight"]);
      const embed = await checkpoint.read(checkpoint.tensors().get("gpt_neox.embed_in.weight")!);
      expect(embed.shape).toEqual([1024, 64]);
    } finally {
      await checkpoint.close();
    }
  });
});
