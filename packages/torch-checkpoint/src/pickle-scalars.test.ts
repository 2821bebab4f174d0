import { describe, expect, it } from "vitest";
import {
  decodeLong,
  latin1,
  parseFloatText,
  parseIntegerText,
  pythonStringRepr,
  rawUnicodeEscape,
} from "./pickle-scalars.js";
import { unpickle } from "./pickle-machine.js";

// References: CPython 3.11 `pickle.encode_long(x).hex()` and `eval` of the STRING reprs.
const LONGS: Array<[string, number | bigint]> = [
  ["", 0],
  ["01", 1],
  ["ff", -1],
  ["7f", 127],
  ["8000", 128],
  ["ff00", 255],
  ["80", -128],
  ["7fff", -129],
  ["0001", 256],
  ["ffffff7f", 2147483647],
  ["00000080", -2147483648],
  ["ffffffffffff1f", Number.MAX_SAFE_INTEGER],
  ["00000000000020", 9007199254740992n],
  ["ffffffffffffdf", -9007199254740993n],
  ["000000000000000001", 18446744073709551616n],
  ["0000000000000000c0", -1180591620717411303424n],
];

describe("pickle scalars", () => {
  it.each(LONGS)("decodes LONG bytes %s as Python's encode_long wrote %s", (hex, expected) => {
    expect(decodeLong(Uint8Array.from(Buffer.from(hex, "hex")))).toBe(expected);
  });

  it("reads protocol-0 integers and floats, and rejects what is not one", () => {
    expect(parseIntegerText(" -42 ")).toBe(-42);
    expect(parseIntegerText("12345678901234567890")).toBe(12345678901234567890n);
    expect(parseIntegerText("1.5")).toBeNull();
    expect(parseIntegerText("")).toBeNull();
    expect(parseFloatText("1.5e3")).toBe(1500);
    expect(parseFloatText("-nan")).toBeNaN();
    expect(parseFloatText("Infinity")).toBe(Infinity);
    expect(parseFloatText(" ")).toBeNull();
    expect(parseFloatText("inf")).toBe(Infinity);
    expect(parseFloatText("-Infinity")).toBe(-Infinity);
    expect(parseFloatText("-infx")).toBeNull();
  });

  it("reads what CPython writes for pickle.dumps([inf, -inf, nan, 1.5], protocol=0)", () => {
    const bytes = new TextEncoder().encode("(lp0\nFinf\naF-inf\naFnan\naF1.5\na.");
    expect(unpickle(bytes).value).toEqual([Infinity, -Infinity, NaN, 1.5]);
  });

  it("decodes STRING reprs, UNICODE escapes and latin-1 bytes", () => {
    expect(pythonStringRepr(String.raw`'a\x41\n\'q\\z'`)).toBe("aA\n'q\\z");
    expect(pythonStringRepr(String.raw`"\z"`)).toBe("\\z");
    expect(pythonStringRepr("'unterminated")).toBeNull();
    expect(rawUnicodeEscape(String.raw`abc\u00e9\U0001F600\U00110000`)).toBe("abcé😀\\U00110000");
    expect(latin1(Uint8Array.from([0x61, 0xe9, 0xff]))).toBe("aéÿ");
  });
});
