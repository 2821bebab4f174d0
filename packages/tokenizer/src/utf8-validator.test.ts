import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Utf8Validator } from "./utf8-validator.js";

describe("Utf8Validator", () => {
  it("finds the first invalid sequence and counts them, across chunk boundaries", () => {
    const validator = new Utf8Validator();
    const euro = [0xe2, 0x82, 0xac];
    validator.push(Uint8Array.of(0x61, euro[0]!));
    validator.push(Uint8Array.of(euro[1]!, euro[2]!, 0xed, 0xa0)); // ED A0: a surrogate
    validator.push(Uint8Array.of(0x80, 0xc0, 0x62, 0xf0, 0x9f));
    validator.end();
    expect(validator.result("f")).toEqual({ file: "f", byteOffset: 4, count: 5 });
    const valid = new Utf8Validator();
    valid.push(new TextEncoder().encode("héllo 🙂 世界"));
    valid.end();
    expect(valid.result("f")).toBeNull();
  });

  it("counts the U+FFFD that TextDecoder substitutes, on random bytes split anywhere", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(40), (bytes, split) => {
        const validator = new Utf8Validator();
        validator.push(bytes.subarray(0, split));
        validator.push(bytes.subarray(split));
        validator.end();
        const decoded = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
        const replacements = [...decoded].filter((char) => char === "\uFFFD").length;
        const original = bytes.filter(
          (_, i) =>
            i + 2 < bytes.length && bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd,
        ).length;
        expect(validator.invalidCount).toBe(replacements - original);
        // Genuine U+FFFD characters (EF BF BD) in the input are valid UTF-8.
        expect(validator.invalidCount === 0).toBe(validator.firstInvalidOffset === null);
      }),
      { numRuns: 2000 },
    );
  });
});
