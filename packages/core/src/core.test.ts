import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { drain, hasMarker, PythiaError, sha256File, writeFileAtomic } from "./index.js";

class ExampleError extends PythiaError<"EXAMPLE"> {
  override name = "ExampleError";
}

describe("PythiaError", () => {
  it("carries a code, its subclass name, and is recognised by marker", () => {
    const error = new ExampleError("EXAMPLE", "what, where, fix");
    expect(error.name).toBe("ExampleError");
    expect(error.code).toBe("EXAMPLE");
    expect(PythiaError.isInstance(error)).toBe(true);
    expect(PythiaError.isInstance(new Error("x"))).toBe(false);
    expect(hasMarker({ [Symbol.for("m")]: true }, Symbol.for("m"))).toBe(true);
  });
});

describe("drain", () => {
  it("passes events and returns the result", async () => {
    async function* run(): AsyncGenerator<number, string> {
      yield 1;
      yield 2;
      return "done";
    }
    const seen: number[] = [];
    expect(await drain(run(), (event) => seen.push(event))).toBe("done");
    expect(seen).toEqual([1, 2]);
  });
});

describe("files", () => {
  it("writes atomically and hashes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-core-"));
    writeFileAtomic(join(dir, "a.txt"), "abc");
    expect(readdirSync(dir)).toEqual(["a.txt"]);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("abc");
    expect(await sha256File(join(dir, "a.txt"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
