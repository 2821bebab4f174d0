import type { FileHandle } from "node:fs/promises";

// Writes stored (uncompressed) zip entries sequentially into an open file, as torch.save's
// PyTorchStreamWriter does: each entry's data starts on a 64-byte boundary (padding goes into a
// local extra field with id 0x4246, "FB"), and zip64 records are written when an entry or an offset
// passes 0xFFFFFFFF, or always with `forceZip64` (tests use that to exercise the zip64 reader).

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (the zip polynomial) of `chunks` taken as one byte string. */
export function crc32(chunks: readonly Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      crc = (CRC_TABLE[(crc ^ (chunk[i] as number)) & 0xff] as number) ^ (crc >>> 8);
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

interface WrittenEntry {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

const ALIGNMENT = 64;
const MAX32 = 0xffffffff;

/** Sequential writer of a stored zip archive into `handle`. */
export class ZipWriter {
  private offset = 0;
  private readonly entries: WrittenEntry[] = [];
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly handle: FileHandle,
    private readonly options: { forceZip64?: boolean } = {},
  ) {}

  private async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.offset + done);
      done += bytesWritten;
    }
    this.offset += bytes.length;
  }

  /** Adds an entry whose bytes are `chunks` back to back (written as they are, never concatenated). */
  async add(name: string, chunks: readonly Uint8Array[]): Promise<void> {
    const nameBytes = this.encoder.encode(name);
    const size = chunks.reduce((total, chunk) => total + chunk.length, 0);
    const crc = crc32(chunks);
    const zip64 = this.options.forceZip64 === true || size >= MAX32 || this.offset >= MAX32;
    const zip64Extra = zip64 ? 20 : 0;
    const unpadded = this.offset + 30 + nameBytes.length + zip64Extra + 4;
    const padding = (ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT;
    const header = new Uint8Array(30 + nameBytes.length + zip64Extra + 4 + padding);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x04034b50, true);
    view.setUint16(4, zip64 ? 45 : 20, true);
    view.setUint16(6, 0x0800, true); // UTF-8 names
    view.setUint16(8, 0, true); // stored
    view.setUint32(14, crc, true);
    view.setUint32(18, zip64 ? MAX32 : size, true);
    view.setUint32(22, zip64 ? MAX32 : size, true);
    view.setUint16(26, nameBytes.length, true);
    view.setUint16(28, zip64Extra + 4 + padding, true);
    header.set(nameBytes, 30);
    let at = 30 + nameBytes.length;
    if (zip64) {
      view.setUint16(at, 1, true);
      view.setUint16(at + 2, 16, true);
      view.setBigUint64(at + 4, BigInt(size), true);
      view.setBigUint64(at + 12, BigInt(size), true);
      at += 20;
    }
    view.setUint16(at, 0x4246, true);
    view.setUint16(at + 2, padding, true);
    this.entries.push({ name: nameBytes, crc, size, offset: this.offset });
    await this.write(header);
    for (const chunk of chunks) {
      await this.write(chunk);
    }
  }

  /** Writes the central directory and the end records. */
  async finish(): Promise<void> {
    const directoryOffset = this.offset;
    const force = this.options.forceZip64 === true;
    for (const entry of this.entries) {
      const bigSize = force || entry.size >= MAX32;
      const bigOffset = force || entry.offset >= MAX32;
      const extraLength = bigSize || bigOffset ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
      const record = new Uint8Array(46 + entry.name.length + extraLength);
      const view = new DataView(record.buffer);
      view.setUint32(0, 0x02014b50, true);
      view.setUint16(4, 45, true);
      view.setUint16(6, extraLength > 0 ? 45 : 20, true);
      view.setUint16(8, 0x0800, true);
      view.setUint32(16, entry.crc, true);
      view.setUint32(20, bigSize ? MAX32 : entry.size, true);
      view.setUint32(24, bigSize ? MAX32 : entry.size, true);
      view.setUint16(28, entry.name.length, true);
      view.setUint16(30, extraLength, true);
      view.setUint32(42, bigOffset ? MAX32 : entry.offset, true);
      record.set(entry.name, 46);
      if (extraLength > 0) {
        let at = 46 + entry.name.length;
        view.setUint16(at, 1, true);
        view.setUint16(at + 2, extraLength - 4, true);
        at += 4;
        if (bigSize) {
          view.setBigUint64(at, BigInt(entry.size), true);
          view.setBigUint64(at + 8, BigInt(entry.size), true);
          at += 16;
        }
        if (bigOffset) {
          view.setBigUint64(at, BigInt(entry.offset), true);
        }
      }
      await this.write(record);
    }
    const directorySize = this.offset - directoryOffset;
    const count = this.entries.length;
    const zip64 = force || directoryOffset >= MAX32 || count >= 0xffff;
    if (zip64) {
      const recordOffset = this.offset;
      const record = new DataView(new ArrayBuffer(56 + 20));
      record.setUint32(0, 0x06064b50, true);
      record.setBigUint64(4, 44n, true);
      record.setUint16(12, 45, true);
      record.setUint16(14, 45, true);
      record.setBigUint64(24, BigInt(count), true);
      record.setBigUint64(32, BigInt(count), true);
      record.setBigUint64(40, BigInt(directorySize), true);
      record.setBigUint64(48, BigInt(directoryOffset), true);
      record.setUint32(56, 0x07064b50, true);
      record.setBigUint64(64, BigInt(recordOffset), true);
      record.setUint32(72, 1, true);
      await this.write(new Uint8Array(record.buffer));
    }
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, zip64 ? 0xffff : count, true);
    end.setUint16(10, zip64 ? 0xffff : count, true);
    end.setUint32(12, zip64 ? MAX32 : directorySize, true);
    end.setUint32(16, zip64 ? MAX32 : directoryOffset, true);
    await this.write(new Uint8Array(end.buffer));
  }
}
