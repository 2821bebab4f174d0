/** Where a stream held bytes that are not UTF-8 (each invalid sequence decodes to U+FFFD). */
export interface InvalidUtf8 {
  /** The input file (or `<stdin>`). */
  file: string;
  /** Byte offset of the first invalid sequence (in the decompressed stream for `.zst` inputs). */
  byteOffset: number;
  /** How many invalid sequences the input held. */
  count: number;
}

/**
 * Streaming UTF-8 validator (the WHATWG decoder's rules: overlong forms, surrogates and code points
 * past U+10FFFF are invalid), fed chunk by chunk, remembering the first invalid byte offset.
 *
 * @example
 * const validator = new Utf8Validator();
 * validator.push(Uint8Array.of(0x61, 0xff));
 * validator.end(); // validator.firstInvalidOffset === 1
 */
export class Utf8Validator {
  /** Byte offset of the first invalid sequence, or null while every byte was valid. */
  firstInvalidOffset: number | null = null;
  /** Number of invalid sequences seen. */
  invalidCount = 0;
  private offset = 0;
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private sequenceStart = 0;

  /** Checks the next chunk of the stream. */
  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (this.needed === 0) {
        if (byte <= 0x7f) {
          continue;
        }
        this.sequenceStart = this.offset + i;
        if (byte >= 0xc2 && byte <= 0xdf) {
          this.needed = 1;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          this.needed = 2;
          this.lower = byte === 0xe0 ? 0xa0 : 0x80;
          this.upper = byte === 0xed ? 0x9f : 0xbf;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          this.needed = 3;
          this.lower = byte === 0xf0 ? 0x90 : 0x80;
          this.upper = byte === 0xf4 ? 0x8f : 0xbf;
        } else {
          this.invalid(this.sequenceStart);
        }
        continue;
      }
      if (byte < this.lower || byte > this.upper) {
        // The sequence ends early; this byte starts a new one.
        this.invalid(this.sequenceStart);
        this.needed = 0;
        this.lower = 0x80;
        this.upper = 0xbf;
        i--;
        continue;
      }
      this.lower = 0x80;
      this.upper = 0xbf;
      this.needed--;
    }
    this.offset += bytes.length;
  }

  /** Ends the stream (an unfinished sequence at the end is invalid). */
  end(): void {
    if (this.needed > 0) {
      this.invalid(this.sequenceStart);
      this.needed = 0;
    }
  }

  /** The finding for `file`, or null when the input was valid UTF-8. */
  result(file: string): InvalidUtf8 | null {
    return this.firstInvalidOffset === null
      ? null
      : { file, byteOffset: this.firstInvalidOffset, count: this.invalidCount };
  }

  private invalid(at: number): void {
    this.firstInvalidOffset ??= at;
    this.invalidCount++;
  }
}
