// Environment and input failures of `pythia-data preprocess`, run as users run it (a child process
// over the built package): one line on stderr, exit 1, and nothing left behind.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataloaderError, preprocess, removeStaleTemporaryFiles } from "./index.js";
import { writeByteTokenizer } from "../test/byte-tokenizer.js";
import { fixturePath, packagePath, temporaryDirectories } from "../test/helpers.js";

const cli = packagePath("dist/cli.js");
const preload = packagePath("test/enospc-preload.mjs");
const scratch = temporaryDirectories("preprocess-failures");

function run(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const result = spawnSync(process.execPath, [...nodeArgs, cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `count` JSONL documents of `chars` ASCII characters each. */
function writeCorpus(path: string, count: number, chars: number): void {
  const line = (i: number) => `${JSON.stringify({ text: `${i} `.padEnd(chars, "abcdefgh ") })}\n`;
  writeFileSync(path, Array.from({ length: count }, (_, i) => line(i)).join(""));
}

describe("preprocess failures are one line, leave nothing behind", () => {
  it("a truncated or non-zstd .jsonl.zst names the file", async () => {
    const dir = scratch();
    const whole = readFileSync(fixturePath("corpus.jsonl.zst"));
    const truncated = join(dir, "truncated.jsonl.zst");
    writeFileSync(truncated, whole.subarray(0, whole.length - 7));
    const garbage = join(dir, "garbage.jsonl.zst");
    writeFileSync(garbage, "this is not zstd data at all\n");
    const tokenizerPath = writeByteTokenizer(dir);
    for (const [file, reason] of [
      [truncated, "unexpected EOF"],
      [garbage, "invalid zstd data"],
    ] as const) {
      const error = await preprocess({
        inputs: [file],
        outputPrefix: join(dir, "out"),
        workers: 0,
        tokenizerPath,
      }).catch((caught: unknown) => caught);
      expect(DataloaderError.isInstance(error) && error.code).toBe("DATASET_INPUT");
      expect((error as Error).message).toMatch(
        new RegExp(`^${file}: not valid zstd data \\(${reason} within the first \\d+ bytes\\); `),
      );
      const { code, stderr } = run([
        "preprocess",
        "--input",
        file,
        "--output-prefix",
        join(dir, "out"),
        "--tokenizer",
        tokenizerPath,
      ]);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`^error: ${file}: not valid zstd data \\(${reason} [^\\n]*\\n$`));
    }
    expect(readdirSync(dir).sort()).toEqual([
      "bytes-tokenizer.json",
      "garbage.jsonl.zst",
      "truncated.jsonl.zst",
    ]);
  });

  it.each([0, 2])(
    "a full disk (ENOSPC) with %i workers: one line, no uncaught rejection, no temp files",
    (workers) => {
      const dir = scratch();
      const input = join(dir, "big.jsonl");
      // 3 MB of text, one token per byte: 6 MB of uint16 ids, so the .bin is flushed (4 MB) mid-stream
      // while batches are still in flight on the workers.
      writeCorpus(input, 3000, 1000);
      const tokenizer = writeByteTokenizer(dir);
      const { code, stdout, stderr } = run(
        [
          "preprocess",
          "--input",
          input,
          "--output-prefix",
          join(dir, "out"),
          "--tokenizer",
          tokenizer,
          "--workers",
          String(workers),
        ],
        { PYTHIA_TEST_ENOSPC_AFTER_BYTES: "0" },
        ["--import", preload],
      );
      expect(stdout).toBe("");
      expect(stderr).toBe(
        `error: cannot write ${join(dir, "out_text_document.bin")} (ENOSPC: the disk is full; free space there or choose another output location)\n`,
      );
      expect(code).toBe(1);
      expect(readdirSync(dir).sort()).toEqual(["big.jsonl", "bytes-tokenizer.json"]);
    },
  );

  it("removes .bin/.idx.tmp-PID-* files a killed run left on the same prefix (not a live process's)", async () => {
    const dir = scratch();
    const prefix = join(dir, "out_text_document");
    const dead = 2 ** 22 + 12345; // above Linux's pid_max default: no such process
    const stale = [`${prefix}.bin.tmp-${dead}-0a1b2c3d`, `${prefix}.idx.tmp-${dead}-0a1b2c3d`];
    const live = `${prefix}.bin.tmp-${process.pid}-deadbeef`;
    const other = join(dir, "other_text_document.bin.tmp-" + dead + "-0a1b2c3d");
    for (const path of [...stale, live, other]) {
      writeFileSync(path, "partial");
    }
    const summary = await preprocess({
      inputs: [fixturePath("corpus.jsonl")],
      outputPrefix: join(dir, "out"),
      workers: 0,
      tokenizerPath: writeByteTokenizer(dir),
    });
    expect(summary.documents).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(
      [
        "other_text_document.bin.tmp-" + dead + "-0a1b2c3d",
        `out_text_document.bin`,
        `out_text_document.bin.tmp-${process.pid}-deadbeef`,
        `out_text_document.idx`,
        "bytes-tokenizer.json",
      ].sort(),
    );
    expect(removeStaleTemporaryFiles(prefix)).toEqual([]);
  });
});
