import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Streams a file through sha256 (constant memory); returns lowercase hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** sha256 of bytes or of a string's UTF-8, lowercase hex. */
export function sha256Hex(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** Git's blob id of bytes or a string's UTF-8 (`sha1("blob <size>\0" + bytes)`): what the Hub lists as `oid` for non-LFS files. */
export function gitBlobId(content: string | Uint8Array): string {
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** Git's blob id of a file of `size` bytes, streamed (constant memory). */
export async function gitBlobIdFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha1").update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** sha256 and git blob id of a stream, computed in one pass. */
export interface StreamHashes {
  sha256: string;
  /** Git's blob id, or `null` when the stream is larger than `gitBlobIdLimit`. */
  gitBlobId: string | null;
  bytes: number;
}

/**
 * Hashes chunks as they pass through (`for await (const chunk of hasher.pass(source))`); `digest()`
 * after the stream ends. Git's blob id needs the size up front, so chunks up to `gitBlobIdLimit` bytes
 * are kept and hashed at the end.
 */
export class StreamHasher {
  private readonly sha256 = createHash("sha256");
  private readonly kept: Uint8Array[] = [];
  private bytes = 0;

  constructor(private readonly gitBlobIdLimit = 64 * 1024 * 1024) {}

  /** Yields every chunk of `source` unchanged, hashing it. */
  async *pass(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.sha256.update(chunk);
      this.bytes += chunk.length;
      if (this.bytes <= this.gitBlobIdLimit) {
        this.kept.push(chunk);
      }
      yield chunk;
    }
  }

  /** The hashes of everything passed. */
  digest(): StreamHashes {
    let git: string | null = null;
    if (this.bytes <= this.gitBlobIdLimit) {
      const hash = createHash("sha1").update(`blob ${this.bytes}\0`);
      for (const chunk of this.kept) {
        hash.update(chunk);
      }
      git = hash.digest("hex");
    }
    return { sha256: this.sha256.digest("hex"), gitBlobId: git, bytes: this.bytes };
  }
}
