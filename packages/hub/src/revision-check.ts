import type { ListFileEntry } from "@huggingface/hub";

/** What a revision on the Hub lacks or gets wrong, compared with the files it should hold. */
export interface RevisionCheck {
  revision: string;
  /** True when every expected file is there with the expected size and hash. */
  ok: boolean;
  /** Expected files absent from the revision. */
  missingFiles: string[];
  /** Files present with another size or hash (the "wrong weights" case), with the reason. */
  mismatchedFiles: Array<{ path: string; reason: string }>;
  /** Files in the revision that the manifest does not list (reported, not an error). */
  extraFiles: string[];
}

/** A file the revision should hold: size, sha256, and (when known) git's blob id for non-LFS files. */
export interface ExpectedFile {
  path: string;
  bytes: number;
  sha256: string;
  gitOid?: string;
}

/** Files every revision may carry besides the checkpoint's own. */
const ALLOWED_EXTRA = new Set([".gitattributes", "README.md"]);

/**
 * Compares a revision's tree listing with the expected files. LFS files must carry the expected
 * sha256 (`lfs.oid`); other files the expected size and, when `gitOid` is given, git blob id.
 */
export function checkRevision(
  revision: string,
  expected: ExpectedFile[],
  remote: ListFileEntry[],
): RevisionCheck {
  const byPath = new Map(remote.map((entry) => [entry.path, entry]));
  const missingFiles: string[] = [];
  const mismatchedFiles: Array<{ path: string; reason: string }> = [];
  for (const file of expected) {
    const entry = byPath.get(file.path);
    if (entry === undefined) {
      missingFiles.push(file.path);
      continue;
    }
    if (entry.size !== file.bytes) {
      mismatchedFiles.push({
        path: file.path,
        reason: `${entry.size} bytes on the Hub, ${file.bytes} expected`,
      });
    } else if (entry.lfs !== undefined) {
      if (entry.lfs.oid !== file.sha256) {
        mismatchedFiles.push({
          path: file.path,
          reason: `LFS sha256 ${entry.lfs.oid} on the Hub, ${file.sha256} expected`,
        });
      }
    } else if (file.gitOid !== undefined && entry.oid !== file.gitOid) {
      mismatchedFiles.push({
        path: file.path,
        reason: `git blob ${entry.oid} on the Hub, ${file.gitOid} expected`,
      });
    }
  }
  const expectedPaths = new Set(expected.map((file) => file.path));
  const extraFiles = remote
    .map((entry) => entry.path)
    .filter((path) => !expectedPaths.has(path) && !ALLOWED_EXTRA.has(path))
    .sort();
  return {
    revision,
    ok: missingFiles.length === 0 && mismatchedFiles.length === 0,
    missingFiles,
    mismatchedFiles,
    extraFiles,
  };
}
