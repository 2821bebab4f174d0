import type { ByteSource } from "./byte-source.js";
import { checkpointError, type TorchCheckpointError } from "./torch-checkpoint-error.js";

// The parts of the zip format (PKWARE APPNOTE 6.3) that torch.save writes: stored (uncompressed)
// entries, a central directory, and the zip64 records once the archive or an entry passes 4 GiB.
//   end of central directory (EOCD): "PK\5\6", 22 bytes + comment, at the end of the file;
//   zip64 EOCD locator: "PK\6\7", 20 bytes right before the EOCD, pointing at the zip64 EOCD
//   record "PK\6\6", which holds 64-bit entry count, directory size and offset;
//   central directory header: "PK\1\2", 46 bytes + name + extra + comment; 0xFFFFFFFF in a size or
//   offset field means "see the zip64 extra field (id 1)", whose values appear in the order
//   uncompressed size, compressed size, local header offset;
//   local file header: "PK\3\4", 30 bytes + name + extra, then the entry's bytes.

/** One entry of a zip archive's central directory. */
export interface ZipEntry {
  name: string;
  /** 0: stored; torch.save writes nothing else. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local file header. */
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
const MAX_COMMENT = 0xffff;
const MAX_DIRECTORY_BYTES = 2 ** 30;
const FIX = "the file is truncated or is not a zip archive written by torch.save; download or save it again";

function zipError(file: string, where: string, what: string, fix = FIX): TorchCheckpointError {
  return checkpointError("ZIP_FORMAT", file, where, what, fix);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function uint64(data: DataView, offset: number, file: string, where: string): number {
  const value = data.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw zipError(file, where, `the 64-bit value ${value} is larger than any file`);
  }
  return Number(value);
}

/** True when the first bytes are a zip local file header ("PK\3\4"). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && view(head).getUint32(0, true) === LOCAL_SIGNATURE;
}

/** Reads a zip archive's central directory (zip64 included) with a few positional reads. */
export async function readZipDirectory(source: ByteSource): Promise<Map<string, ZipEntry>> {
  const file = source.name;
  if (source.size < EOCD_BYTES) {
    throw zipError(
      file,
      "end of central directory",
      `the file has ${source.size} bytes, fewer than a zip's 22-byte trailer`,
    );
  }
  const tailLength = Math.min(source.size, EOCD_BYTES + MAX_COMMENT + 20);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  const tailView = view(tail);
  let eocd = -1;
  for (let i = tail.length - EOCD_BYTES; i >= 0; i--) {
    if (
      tailView.getUint32(i, true) === EOCD_SIGNATURE &&
      i + EOCD_BYTES + tailView.getUint16(i + 20, true) === tail.length
    ) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw zipError(file, "end of central directory", "no end-of-central-directory record in the last 64 KiB");
  }
  let entryCount = tailView.getUint16(eocd + 10, true);
  let directorySize = tailView.getUint32(eocd + 12, true);
  let directoryOffset = tailView.getUint32(eocd + 16, true);
  if (tailView.getUint16(eocd + 4, true) !== 0 || tailView.getUint16(eocd + 6, true) !== 0) {
    throw zipError(
      file,
      "end of central directory",
      "the archive spans several disks",
      "join the parts into one file",
    );
  }
  const locator = eocd - 20;
  if (locator >= 0 && tailView.getUint32(locator, true) === ZIP64_LOCATOR_SIGNATURE) {
    const recordOffset = uint64(tailView, locator + 8, file, "zip64 locator");
    if (recordOffset + 56 > source.size) {
      throw zipError(file, "zip64 locator", `points at offset ${recordOffset}, past the end of the file`);
    }
    const record = view(await source.read(recordOffset, 56));
    if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) {
      throw zipError(file, "zip64 end of central directory", `no record at offset ${recordOffset}`);
    }
    entryCount = uint64(record, 32, file, "zip64 entry count");
    directorySize = uint64(record, 40, file, "zip64 central directory size");
    directoryOffset = uint64(record, 48, file, "zip64 central directory offset");
  }
  if (directoryOffset + directorySize > source.size || directorySize > MAX_DIRECTORY_BYTES) {
    throw zipError(
      file,
      "central directory",
      `[${directoryOffset}, +${directorySize}) is not inside the ${source.size}-byte file`,
    );
  }
  if (entryCount * 46 > directorySize) {
    throw zipError(file, "central directory", `${entryCount} entries cannot fit in ${directorySize} bytes`);
  }
  const directory = await source.read(directoryOffset, directorySize);
  const data = view(directory);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let at = 0;
  for (let index = 0; index < entryCount; index++) {
    const where = `central directory entry ${index}`;
    if (at + 46 > directory.length || data.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw zipError(file, where, `no central directory header at offset ${directoryOffset + at}`);
    }
    const method = data.getUint16(at + 10, true);
    let compressedSize = data.getUint32(at + 20, true);
    let size = data.getUint32(at + 24, true);
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    let localHeaderOffset = data.getUint32(at + 42, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > directory.length) {
      throw zipError(file, where, "the entry runs past the end of the central directory");
    }
    const name = decoder.decode(directory.subarray(at + 46, at + 46 + nameLength));
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = data.getUint16(extra, true);
      const length = data.getUint16(extra + 2, true);
      if (extra + 4 + length > extraEnd) {
        throw zipError(file, `${where} (${name})`, "an extra field runs past its entry");
      }
      if (id === 1) {
        let field = extra + 4;
        const take = (): number => {
          if (field + 8 > extra + 4 + length) {
            throw zipError(
              file,
              `${where} (${name})`,
              "the zip64 extra field is shorter than the values it must hold",
            );
          }
          const value = uint64(data, field, file, `${where} zip64 extra`);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) {
          size = take();
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = take();
        }
        if (localHeaderOffset === 0xffffffff) {
          localHeaderOffset = take();
        }
      }
      extra += 4 + length;
    }
    if (localHeaderOffset + 30 > source.size || localHeaderOffset + compressedSize > source.size) {
      throw zipError(
        file,
        `${where} (${name})`,
        `its data at offset ${localHeaderOffset} (+${compressedSize}) lies past the end of the file`,
      );
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    at = end;
  }
  return entries;
}

/** File offset of an entry's bytes (after its local header); only stored entries are accepted. */
export async function zipEntryDataOffset(source: ByteSource, entry: ZipEntry): Promise<number> {
  const file = source.name;
  if (entry.method !== 0 || entry.compressedSize !== entry.size) {
    throw zipError(
      file,
      `entry ${entry.name}`,
      `it is compressed (method ${entry.method}); torch.save stores entries uncompressed`,
      "re-save the checkpoint with torch.save instead of re-zipping it",
    );
  }
  const header = view(await source.read(entry.localHeaderOffset, 30));
  if (header.getUint32(0, true) !== LOCAL_SIGNATURE) {
    throw zipError(file, `entry ${entry.name}`, `no local file header at offset ${entry.localHeaderOffset}`);
  }
  const start = entry.localHeaderOffset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
  if (start + entry.size > source.size) {
    throw zipError(
      file,
      `entry ${entry.name}`,
      `its ${entry.size} bytes at offset ${start} run past the end of the file`,
    );
  }
  return start;
}
