// How pickle spells numbers and strings in opcode arguments: little-endian two's-complement longs
// (LONG1/LONG4), the text lines of protocol 0 (INT, LONG, FLOAT, STRING, UNICODE, PUT/GET indices)
// and latin-1 bytes (BINSTRING, GLOBAL's names). Pure functions: each returns null where the text
// is not what the opcode expects, and the pickle machine turns that into an error naming the offset.

/** A bigint as a number when it fits exactly. */
export function narrowInteger(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/** A LONG1/LONG4 argument: little-endian two's complement, empty for 0. */
export function decodeLong(raw: Uint8Array): number | bigint {
  if (raw.length === 0) {
    return 0;
  }
  let value = 0n;
  for (let i = raw.length - 1; i >= 0; i--) {
    value = (value << 8n) | BigInt(raw[i] as number);
  }
  if (((raw[raw.length - 1] as number) & 0x80) !== 0) {
    value -= 1n << BigInt(8 * raw.length);
  }
  return narrowInteger(value);
}

/** A decimal integer of protocol 0 (INT, LONG without its `L`, PUT/GET indices); null if it is not one. */
export function parseIntegerText(text: string): number | bigint | null {
  const trimmed = text.trim();
  if (!/^[-+]?\d{1,1000}$/.test(trimmed)) {
    return null;
  }
  return narrowInteger(BigInt(trimmed));
}

/** A FLOAT argument (Python's `repr` of a float, `nan` and `inf` included); null if it is not one. */
export function parseFloatText(text: string): number | null {
  // Python writes infinities as `inf` / `-inf`, which `Number` does not read.
  const infinity = /^\s*([-+]?)inf(inity)?\s*$/i.exec(text);
  if (infinity !== null) {
    return infinity[1] === "-" ? -Infinity : Infinity;
  }
  const value = Number(text);
  if (text.trim() === "" || (Number.isNaN(value) && !/^[-+]?nan$/i.test(text.trim()))) {
    return null;
  }
  return value;
}

/** Bytes as latin-1 text (one character per byte). */
export function latin1(raw: Uint8Array): string {
  let out = "";
  for (let i = 0; i < raw.length; i += 8192) {
    out += String.fromCharCode(...raw.subarray(i, i + 8192));
  }
  return out;
}

/** A UNICODE argument: raw-unicode-escape text (`\uXXXX` and `\UXXXXXXXX` escapes). */
export function rawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (match, short?: string, long?: string) => {
    const code = parseInt(short ?? long ?? "", 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : match;
  });
}

const STRING_ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "0": "\0",
};

/** A STRING argument: the quoted `repr` of a Python 2 str; null if it is not quoted. */
export function pythonStringRepr(text: string): string | null {
  const quote = text[0];
  if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) {
    return null;
  }
  return text
    .slice(1, -1)
    .replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, escape: string) =>
      escape.startsWith("x") && escape.length === 3
        ? String.fromCharCode(parseInt(escape.slice(1), 16))
        : (STRING_ESCAPES[escape] ?? `\\${escape}`),
    );
}
