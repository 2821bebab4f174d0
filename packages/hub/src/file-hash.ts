import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export { sha256File } from "@pythia/core";

/** Git's blob id of a file (`sha1("blob <size>\0" + bytes)`): the `oid` the Hub lists for non-LFS files. */
export async function gitBlobOidFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha1");
  hash.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}
