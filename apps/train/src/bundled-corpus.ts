/**
 * The corpus `pythia-train` trains on when given no data: Tiny Shakespeare (public domain; karpathy/char-rnn,
 * 1,115,394 bytes), shipped in `data/tinyshakespeare/input.txt`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Name of the bundled corpus (and of its `.bin/.idx` prefix). */
export const BUNDLED_CORPUS_NAME = "tinyshakespeare";

/** Absolute path of the bundled `input.txt` (from `dist/` and from `src/` alike). */
export function bundledCorpusPath(): string {
  return fileURLToPath(new URL("../data/tinyshakespeare/input.txt", import.meta.url));
}

/**
 * Writes the corpus as two plain-text documents, the first 90% of its lines and the last 10% (nanoGPT's
 * split), and returns their paths in that order. A text file is one document to the preprocessor, and
 * the trainer validates on held-out last documents, so one file would leave nothing to validate on.
 */
export function writeBundledCorpusDocuments(dir: string): string[] {
  const lines = readFileSync(bundledCorpusPath(), "utf8").split(/(?<=\n)/);
  const cut = Math.round(lines.length * 0.9);
  mkdirSync(dir, { recursive: true });
  const train = join(dir, `${BUNDLED_CORPUS_NAME}-train.txt`);
  const validation = join(dir, `${BUNDLED_CORPUS_NAME}-validation.txt`);
  writeFileSync(train, lines.slice(0, cut).join(""));
  writeFileSync(validation, lines.slice(cut).join(""));
  return [train, validation];
}
