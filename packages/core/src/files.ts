import { createHash, randomBytes } from "node:crypto";
import { createReadStream, rmSync, writeFileSync } from "node:fs";
import { renameDurable } from "./rename-durable.js";

/** A sibling temporary path for `path` (same directory, so a final rename is atomic). */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Writes `contents` to a temporary sibling and renames it onto `path`: never a half-written file. */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const temporary = temporaryPath(path);
  try {
    writeFileSync(temporary, contents);
    renameDurable(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Streams a file through sha256 (constant memory); returns lowercase hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}
