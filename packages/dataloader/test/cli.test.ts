// pythia-data, run as users run it: a child process over the built package.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readNpy } from "../src/index.js";
import { fixturePath, packagePath, readJsonFixture } from "./helpers.js";

const cli = packagePath("dist/cli.js");
try {
  readFileSync(cli);
} catch {
  throw new Error(`${cli} is missing: run "pnpm build" first (the root "pnpm test" builds before testing)`);
}

function run(args: string[], input = "") {
  const result = spawnSync(process.execPath, [cli, ...args], { input, encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const fixturePrefix = fixturePath("random_text_document");

/** A prefix whose .bin and .idx are both directories (`mkdir adir.bin adir.idx`). */
function directoryPrefix(): string {
  const dir = mkdtempSync(join(tmpdir(), "pythia-data-dirs-"));
  mkdirSync(join(dir, "adir.bin"));
  mkdirSync(join(dir, "adir.idx"));
  return join(dir, "adir");
}

describe("pythia-data", () => {
  it("write: docs.json -> the reference .bin/.idx bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-data-cli-"));
    const { code, stdout } = run([
      "write",
      "--docs",
      fixturePath("docs.json"),
      "--output-prefix",
      join(dir, "x"),
      "--dtype",
      "uint16",
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain("200 documents, 31358 tokens, uint16");
    expect(readFileSync(join(dir, "x.bin"))).toEqual(readFileSync(`${fixturePrefix}.bin`));
    expect(readFileSync(join(dir, "x.idx"))).toEqual(readFileSync(`${fixturePrefix}.idx`));
  });

  it.each([
    ["one-epoch", 512],
    ["multi-epoch", 2035],
  ])("samples (%s): every sample and index array equal GPT-NeoX's", (name, numSamples) => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-samples-"));
    copyFileSync(`${fixturePrefix}.bin`, join(dir, "d.bin"));
    copyFileSync(`${fixturePrefix}.idx`, join(dir, "d.idx"));
    const out = join(dir, "out.json");
    const args = [
      "samples",
      "--prefix",
      join(dir, "d"),
      "--seq-length",
      "32",
      "--seed",
      "1234",
      "--num-samples",
      String(numSamples),
      "--output",
      out,
    ];
    const { code, stderr } = run(args);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(readFileSync(out, "utf8"));
    const folder = `gpt2-seq32-seed1234-${name}`;
    const stem = `${folder}/random_text_document_train_indexmap_${numSamples}ns_32sl_1234s`;
    expect(result.samples).toEqual(
      readJsonFixture<{ samples: number[][] }>(`${folder}/samples.json`).samples,
    );
    expect(result.doc_idx).toEqual(
      Array.from(readNpy(fixturePath(`${stem}_doc_idx.npy`)).data as Int32Array),
    );
    expect(result.shuffle_idx).toEqual(
      Array.from(readNpy(fixturePath(`${stem}_shuffle_idx.npy`)).data as Uint32Array),
    );
    const sampleIdx = readNpy(fixturePath(`${stem}_sample_idx.npy`)).data as Int32Array;
    expect(result.sample_idx.flat()).toEqual(Array.from(sampleIdx));
    // Like GPT-NeoX, the index maps are cached next to the dataset, byte-identical to numpy's files.
    for (const kind of ["doc", "sample", "shuffle"]) {
      const file = `d_train_indexmap_${numSamples}ns_32sl_1234s_${kind}_idx.npy`;
      expect(readFileSync(join(dir, file))).toEqual(readFileSync(fixturePath(`${stem}_${kind}_idx.npy`)));
    }
  });

  it("batch: GPT2Dataset order and pre-shuffled rows, as JSON", () => {
    const expected = readJsonFixture<{ samples: number[][] }>(
      "gpt2-seq32-seed1234-one-epoch/samples.json",
    ).samples;
    const ordered = run([
      "batch",
      "--prefix",
      fixturePrefix,
      "--step",
      "5",
      "--batch-size",
      "4",
      "--seq-length",
      "32",
      "--seed",
      "1234",
      "--num-samples",
      "512",
      "--no-cache",
      "--json",
    ]);
    expect(ordered.code).toBe(0);
    expect(JSON.parse(ordered.stdout)).toEqual({ step: 5, sequences: expected.slice(20, 24) });
    const rows = run([
      "batch",
      "--prefix",
      fixturePrefix,
      "--step",
      "2",
      "--batch-size",
      "3",
      "--seq-length",
      "9",
      "--json",
    ]);
    const flat = readJsonFixture<number[][]>("docs.json").flat();
    expect(JSON.parse(rows.stdout).sequences).toEqual(
      [0, 1, 2].map((r) => flat.slice((6 + r) * 10, (7 + r) * 10)),
    );
  });

  it("batch --decode prints text", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-decode-"));
    writeFileSync(join(dir, "docs.json"), JSON.stringify([[12092, 13, 1533, 2, 0, 12092, 13, 1533, 2, 0]]));
    expect(run(["write", "--docs", join(dir, "docs.json"), "--output-prefix", join(dir, "x")]).code).toBe(0);
    const { stdout } = run([
      "batch",
      "--prefix",
      join(dir, "x"),
      "--step",
      "0",
      "--batch-size",
      "2",
      "--seq-length",
      "4",
      "--decode",
    ]);
    expect(stdout).toBe(
      'step 0: 2 sequences of 5 tokens, samples [0, 2) in pre-shuffled rows\n[0] "Hello, world!<|endoftext|>"\n[1] "Hello, world!<|endoftext|>"\n',
    );
  });

  it("info: counts and checksums", () => {
    const { code, stdout } = run(["info", "--prefix", fixturePrefix, "--json", "--vocab-size", "50277"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      dtype: "uint16",
      documents: 200,
      items: 200,
      tokens: 31358,
      binBytes: 62716,
      sha256: {
        bin: "566ff40ec7ac0155ac81e09a651411d9da12bdf330b84a9015cee247362502ef",
        idx: "aeb9c6648e09959be391c54fcff12ec060faaa8878b87a458791ccb8b8177d87",
      },
      vocabViolation: null,
    });
    const tooSmall = run(["info", "--prefix", fixturePrefix, "--vocab-size", "1000", "--no-checksum"]);
    expect(tooSmall.code).toBe(1);
    expect(tooSmall.stdout).toMatch(/vocab {6}item \d+, position \d+: id \d+ >= 1000/);
  });

  it("preprocess: JSONL -> PREFIX_text_document", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-pre-cli-"));
    writeFileSync(join(dir, "in.jsonl"), '{"text": "Hello, world!"}\n{"text": " the"}\n');
    const { code, stdout, stderr } = run([
      "preprocess",
      "--input",
      join(dir, "in.jsonl"),
      "--output-prefix",
      join(dir, "out"),
      "--workers",
      "1",
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote .*out_text_document\.bin\/\.idx: 2 documents, 7 tokens \(uint16\)/);
    const rows = run([
      "batch",
      "--prefix",
      join(dir, "out_text_document"),
      "--step",
      "0",
      "--batch-size",
      "1",
      "--seq-length",
      "6",
      "--json",
    ]);
    expect(JSON.parse(rows.stdout).sequences).toEqual([[12092, 13, 1533, 2, 0, 253, 0]]);
  });

  const bad: Array<[string, string[], RegExp, number]> = [
    [
      "a missing dataset",
      ["info", "--prefix", "/no/such/data"],
      /^error: cannot open \/no\/such\/data\.idx \(ENOENT\)/,
      1,
    ],
    [
      "a directory passed as the .idx",
      ["info", "--prefix", directoryPrefix()],
      /^error: .*adir\.idx: is a directory, not a file; pass the dataset prefix \(P for the files P\.bin and P\.idx\)\n$/,
      1,
    ],
    [
      "a step past the end",
      ["batch", "--prefix", fixturePrefix, "--step", "99", "--batch-size", "1024"],
      /batch 99 needs rows/,
      1,
    ],
    [
      "a lone --seed",
      ["batch", "--prefix", fixturePrefix, "--step", "0", "--batch-size", "1", "--seed", "1"],
      /--seed and --num-samples go together/,
      2,
    ],
    [
      "a non-integer option",
      ["batch", "--prefix", fixturePrefix, "--step", "x", "--batch-size", "1"],
      /expected a non-negative integer, got "x"/,
      2,
    ],
    [
      "an unknown dtype",
      ["write", "--docs", "d.json", "--output-prefix", "p", "--dtype", "uint32"],
      /Allowed choices are uint8/,
      2,
    ],
    ["an unknown command", ["frob"], /unknown command 'frob'/, 2],
  ];
  it.each(bad)("reports %s in one line, without a stack trace", (_name, args, message, exitCode) => {
    const { code, stderr } = run(args);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("reports malformed docs.json with the position, and leaves no files", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-baddocs-"));
    writeFileSync(
      join(dir, "docs.json"),
      JSON.stringify([
        [1, 2],
        [3, "x"],
      ]),
    );
    const { code, stderr } = run([
      "write",
      "--docs",
      join(dir, "docs.json"),
      "--output-prefix",
      join(dir, "x"),
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/document 1, position 1: "x" is not an integer token id/);
    writeFileSync(join(dir, "docs.json"), JSON.stringify([[1, 70000]]));
    expect(
      run(["write", "--docs", join(dir, "docs.json"), "--output-prefix", join(dir, "x")]).stderr,
    ).toMatch(/value 70000 does not fit uint16/);
    expect(readdirSync(dir)).toEqual(["docs.json"]);
  });

  it("a corrupted .idx gives one line naming the file and field", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-corrupt-cli-"));
    const idx = readFileSync(`${fixturePrefix}.idx`);
    idx.writeUInt8(42, 17);
    writeFileSync(join(dir, "c.idx"), idx);
    copyFileSync(`${fixturePrefix}.bin`, join(dir, "c.bin"));
    const { code, stderr } = run(["info", "--prefix", join(dir, "c")]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `error: ${join(dir, "c.idx")}: dtype (byte 17): unknown dtype code 42; valid codes are 1-8\n`,
    );
  });
});
