// pythia-tokenize and pythia-data preprocess accept the same inputs (ADR 0018): a leading BOM is
// dropped, blank lines are skipped, bytes that are not UTF-8 become U+FFFD with one warning line
// naming the file and byte offset, or are refused under --strict. Both CLIs, on the same files.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { IndexedDataset } from "./index.js";
import { writeByteTokenizer } from "../test/byte-tokenizer.js";
import { packagePath, temporaryDirectories } from "../test/helpers.js";

const dataCli = packagePath("dist/cli.js");
const tokenizeCli = join(
  dirname(createRequire(import.meta.url).resolve("@pythia/tokenizer/package.json")),
  "dist/cli.js",
);
const scratch = temporaryDirectories("input-rules");

function run(cli: string, args: string[], input = "") {
  const result = spawnSync(process.execPath, [cli, ...args], { input, encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Documents of a dataset written by `pythia-data preprocess --no-append-eod`. */
function preprocessDocuments(dir: string, file: string, tokenizer: string, strict = false) {
  const prefix = join(dir, "out");
  const result = run(dataCli, [
    "preprocess",
    "--input",
    file,
    "--output-prefix",
    prefix,
    "--tokenizer",
    tokenizer,
    "--no-append-eod",
    "--workers",
    "0",
    ...(strict ? ["--strict"] : []),
  ]);
  if (result.code !== 0) {
    return { ...result, documents: null };
  }
  const dataset = IndexedDataset.open(`${prefix}_text_document`);
  const documents = Array.from({ length: dataset.length }, (_, i) => Array.from(dataset.get(i), Number));
  dataset.close();
  return { ...result, documents };
}

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(
    parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part))),
  );

describe("pythia-tokenize and preprocess accept the same inputs", () => {
  it("drop a BOM and skip blank lines (also whitespace-only and CRLF ones)", () => {
    const dir = scratch();
    const tokenizer = writeByteTokenizer(dir);
    const file = join(dir, "bom.jsonl");
    writeFileSync(file, bytes([0xef, 0xbb, 0xbf], '{"text":"ab"}\r\n\r\n  \n{"text":"c"}\n\n'));
    const pre = preprocessDocuments(dir, file, tokenizer);
    expect(pre.stderr).toBe("");
    expect(pre.documents).toEqual([[97, 98], [99]]);
    const encoded = spawnSync(process.execPath, [tokenizeCli, "encode", "--tokenizer", tokenizer], {
      input: readFileSync(file),
      encoding: "utf8",
    });
    expect(encoded.stderr).toBe("");
    expect(encoded.status).toBe(0);
    expect(encoded.stdout).toBe('{"ids":[97,98]}\n{"ids":[99]}\n');
    const counted = run(tokenizeCli, ["count", "--tokenizer", tokenizer, file]);
    expect(counted.stdout).toBe(`3\t${file}\n`);
  });

  it("warn once with the file and byte offset on bytes that are not UTF-8, and refuse them under --strict", () => {
    const dir = scratch();
    const tokenizer = writeByteTokenizer(dir);
    const file = join(dir, "latin1.jsonl");
    // "é" in Latin-1 (0xE9) at byte 12, and a lone continuation byte (0x80) at byte 27.
    writeFileSync(file, bytes('{"text":"caf', [0xe9], '"}\n{"text":"ok', [0x80], '"}\n'));
    const finding = `${file}: invalid UTF-8 at byte 12 (2 invalid sequences)`;
    const pre = preprocessDocuments(dir, file, tokenizer);
    expect(pre.code).toBe(0);
    expect(pre.stderr).toBe(`warning: ${finding}; replaced by U+FFFD (pass --strict to refuse such input)\n`);
    // "caf" then U+FFFD (EF BF BD: three byte-level tokens).
    expect(pre.documents?.[0]).toHaveLength(6);
    const counted = run(tokenizeCli, ["count", "--tokenizer", tokenizer, file]);
    expect(counted.code).toBe(0);
    expect(counted.stderr).toBe(
      `warning: ${finding}; replaced by U+FFFD (pass --strict to refuse such input)\n`,
    );
    // Both replace each invalid sequence by U+FFFD: the same token counts.
    expect(counted.stdout).toBe(`${pre.documents!.flat().length}\t${file}\n`);

    const strictPre = preprocessDocuments(dir, file, tokenizer, true);
    expect(strictPre.code).toBe(1);
    expect(strictPre.stderr).toMatch(new RegExp(`^error: ${file}: invalid UTF-8 at byte 12; [^\\n]*\\n$`));
    const strictCount = run(tokenizeCli, ["count", "--strict", "--tokenizer", tokenizer, file]);
    expect(strictCount.code).toBe(1);
    expect(strictCount.stderr).toMatch(new RegExp(`^error: ${file}: invalid UTF-8 at byte 12; [^\\n]*\\n$`));
  });
});
