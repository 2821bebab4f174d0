import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, open, readdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { drain, renameDurable, temporaryPath } from "@pythia/core";
import { dtypeByCode } from "./dtype.js";
import { DataloaderError, DatasetFormatError } from "./errors.js";
import { IDX_HEADER_BYTES, IDX_MAGIC } from "./indexed-dataset-format.js";

// Pythia's released data (EleutherAI/pile-standard-pythia-preshuffled and the deduped twin) comes as
// one `document.idx` and the `.bin` cut into byte ranges: `document-00000-of-00020.bin` …
// `document-00020-of-00020.bin` (Pythia's `utils/unshard_memmap.py` joins them in Python). The
// shards are plain byte slices of the original `.bin`, so joining them in index order restores it;
// the `.idx` says how long the result must be (last pointer + last size × item size).

/** Parameters of {@link unshard}. */
export interface UnshardParams {
  /** The shard files, or one glob-like pattern whose `*` match within a folder (`dir/document-*-of-*.bin`). */
  input: string | readonly string[];
  /** The `.idx` of the whole dataset. */
  idx: string;
  /** Output prefix: writes `PREFIX.bin` and `PREFIX.idx`. */
  outPrefix: string;
  /** Replace existing outputs. @default false */
  overwrite?: boolean;
}

/** Progress of {@link unshardIter}. */
export type UnshardEvent =
  | { type: "planned"; shards: string[]; totalBytes: number }
  | { type: "shard-copied"; file: string; bytes: number; done: number; total: number }
  | { type: "written"; bin: string; idx: string; bytes: number };

/** What {@link unshard} wrote. */
export interface UnshardResult {
  bin: string;
  idx: string;
  bytes: number;
  shards: string[];
}

const SHARD_NAME = /-(\d+)-of-(\d+)\.bin$/;

/**
 * The files a glob-like pattern names (only the last path part may hold `*`), sorted by their shard
 * index (`-XXXXX-of-YYYYY`), checked to be shards 0, 1, … of one set with no gap.
 */
export async function resolveShards(input: string | readonly string[]): Promise<string[]> {
  let files: string[];
  if (typeof input === "string") {
    const dir = dirname(input);
    const pattern = basename(input);
    if (!pattern.includes("*")) {
      files = [input];
    } else {
      const regex = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        throw new DataloaderError(
          "DATASET_IO",
          `${dir}: cannot list the folder (${(error as NodeJS.ErrnoException).code}); check --input`,
        );
      }
      files = names.filter((name) => regex.test(name)).map((name) => join(dir, name));
    }
  } else {
    files = [...input];
  }
  if (files.length === 0) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${String(input)}: no shard matches; check --input (quote the pattern so the shell does not expand it)`,
    );
  }
  const indexed = files.map((file) => {
    const match = SHARD_NAME.exec(basename(file));
    return {
      file,
      index: match === null ? null : Number(match[1]),
      of: match === null ? null : Number(match[2]),
    };
  });
  if (files.length === 1 && indexed[0]?.index === null) {
    return files;
  }
  for (const shard of indexed) {
    if (shard.index === null) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `${shard.file}: not named like a shard (NAME-XXXXX-of-YYYYY.bin); list the shards in order instead`,
      );
    }
  }
  const of = new Set(indexed.map((shard) => shard.of));
  if (of.size !== 1) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `the shards come from different sets (-of-${[...of].join(", -of-")}); pass one set`,
    );
  }
  indexed.sort((a, b) => (a.index as number) - (b.index as number));
  indexed.forEach((shard, position) => {
    if (shard.index !== position) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `shard ${position} is missing (found ${basename(shard.file)} in its place); download every shard of the set`,
      );
    }
  });
  const last = indexed[indexed.length - 1]?.index as number;
  const declared = indexed[0]?.of as number;
  if (last !== declared && last !== declared - 1) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `found shards 0..${last} of a set named -of-${String(declared).padStart(5, "0")}; the last shard${last < declared - 1 ? "s are" : " is"} missing`,
    );
  }
  return indexed.map((shard) => shard.file);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/** Bytes of `.bin` an `.idx` describes (last pointer + last size × item size), read with three small reads. */
export async function idxDataBytes(path: string): Promise<number> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new DataloaderError(
      "DATASET_IO",
      `${path}: cannot open (${(error as NodeJS.ErrnoException).code}); check --idx`,
    );
  }
  try {
    const size = (await handle.stat()).size;
    const header = new Uint8Array(IDX_HEADER_BYTES);
    if (
      size < IDX_HEADER_BYTES ||
      (await handle.read(header, 0, IDX_HEADER_BYTES, 0)).bytesRead !== IDX_HEADER_BYTES
    ) {
      throw new DatasetFormatError({
        file: path,
        field: "header",
        message: `the file has ${size} bytes, fewer than the header: truncated`,
      });
    }
    if (!IDX_MAGIC.every((byte, i) => header[i] === byte)) {
      throw new DatasetFormatError({
        file: path,
        field: "magic",
        offset: 0,
        message: "not a GPT-NeoX .idx file",
      });
    }
    const view = new DataView(header.buffer);
    const dtype = dtypeByCode(view.getUint8(17));
    if (dtype === null) {
      throw new DatasetFormatError({
        file: path,
        field: "dtype",
        offset: 17,
        message: `unknown dtype code ${view.getUint8(17)}`,
      });
    }
    const items = Number(view.getBigUint64(18, true));
    if (items === 0) {
      return 0;
    }
    if (IDX_HEADER_BYTES + 12 * items > size) {
      throw new DatasetFormatError({
        file: path,
        field: "sizes",
        message: `${items} items do not fit in ${size} bytes: truncated`,
      });
    }
    const last = new Uint8Array(8);
    await handle.read(last, 0, 4, IDX_HEADER_BYTES + 4 * (items - 1));
    const lastSize = new DataView(last.buffer).getInt32(0, true);
    await handle.read(last, 0, 8, IDX_HEADER_BYTES + 4 * items + 8 * (items - 1));
    const lastPointer = Number(new DataView(last.buffer).getBigInt64(0, true));
    return lastPointer + lastSize * dtype.itemSize;
  } finally {
    await handle.close();
  }
}

/**
 * Joins a sharded `.bin` into `PREFIX.bin` (streamed shard by shard, never a shard in memory) and
 * copies the `.idx` to `PREFIX.idx`. The shards' total size is checked against the `.idx` before
 * anything is written; outputs appear only when complete (temporary names, then rename).
 */
export async function* unshardIter(params: UnshardParams): AsyncGenerator<UnshardEvent, UnshardResult> {
  const shards = await resolveShards(params.input);
  const expected = await idxDataBytes(params.idx);
  const sizes: number[] = [];
  for (const shard of shards) {
    try {
      sizes.push((await stat(shard)).size);
    } catch (error) {
      throw new DataloaderError(
        "DATASET_IO",
        `${shard}: cannot read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total !== expected) {
    throw new DataloaderError(
      "DATASET_INPUT",
      `${params.idx}: describes ${expected} bytes of tokens but the ${shards.length} shards hold ${total}; ${total < expected ? "a shard is missing or truncated: download them again" : "these shards belong to another .idx"}`,
    );
  }
  yield { type: "planned", shards, totalBytes: total };
  const bin = `${params.outPrefix}.bin`;
  const idx = `${params.outPrefix}.idx`;
  for (const out of [bin, idx]) {
    const exists = await stat(out).then(
      () => true,
      () => false,
    );
    if (exists && params.overwrite !== true) {
      throw new DataloaderError(
        "DATASET_INPUT",
        `${out} already exists; choose another --out or pass --overwrite`,
      );
    }
  }
  const binTemporary = temporaryPath(bin);
  const idxTemporary = temporaryPath(idx);
  try {
    const output = createWriteStream(binTemporary);
    try {
      for (const [i, shard] of shards.entries()) {
        await pipeline(createReadStream(shard, { highWaterMark: 1 << 22 }), output, { end: false });
        yield {
          type: "shard-copied",
          file: shard,
          bytes: sizes[i] as number,
          done: i + 1,
          total: shards.length,
        };
      }
    } finally {
      await new Promise<void>((resolve, reject) =>
        output.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    }
    const written = (await stat(binTemporary)).size;
    if (written !== expected) {
      throw new DataloaderError(
        "DATASET_IO",
        `${bin}: wrote ${written} bytes, expected ${expected}; a shard changed while it was read`,
      );
    }
    await copyFile(params.idx, idxTemporary);
    renameDurable(binTemporary, bin);
    renameDurable(idxTemporary, idx);
  } catch (error) {
    await rm(binTemporary, { force: true });
    await rm(idxTemporary, { force: true });
    throw error;
  }
  yield { type: "written", bin, idx, bytes: expected };
  return { bin, idx, bytes: expected, shards };
}

/** {@link unshardIter} drained. */
export function unshard(
  params: UnshardParams,
  onEvent?: (event: UnshardEvent) => void,
): Promise<UnshardResult> {
  return drain(unshardIter(params), onEvent);
}
