// pythia-data unshard and the pre-shuffled row length of `batch`, run as users run them.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packagePath } from "./helpers.js";

const cli = packagePath("dist/cli.js");
try {
  readFileSync(cli);
} catch {
  throw new Error(`${cli} is missing: run "pnpm build" first (the root "pnpm test" builds before testing)`);
}

function run(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("pythia-data unshard / batch on pre-shuffled rows", () => {
  it("joins shards into a dataset whose batches take their row length from the .idx", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-unshard-cli-"));
    // 8 rows of 65 tokens (a pre-shuffled file with seq length 64), one item per row.
    const rows = Array.from({ length: 8 }, (_, r) => Array.from({ length: 65 }, (_, i) => r * 100 + i));
    writeFileSync(join(dir, "rows.json"), JSON.stringify(rows));
    expect(
      run(["write", "--docs", join(dir, "rows.json"), "--output-prefix", join(dir, "document")]).code,
    ).toBe(0);
    const bin = readFileSync(join(dir, "document.bin"));
    const cut = 300;
    for (let i = 0; i * cut < bin.length; i++) {
      writeFileSync(
        join(dir, `document-${String(i).padStart(5, "0")}-of-00003.bin`),
        bin.subarray(i * cut, (i + 1) * cut),
      );
    }
    const joined = run([
      "unshard",
      "--input",
      join(dir, "document-*-of-*.bin"),
      "--idx",
      join(dir, "document.idx"),
      "--output-prefix",
      join(dir, "joined"),
    ]);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toBe(
      `wrote ${join(dir, "joined.bin")} (${bin.length} bytes) and ${join(dir, "joined.idx")} from 4 shards\n`,
    );
    expect(readFileSync(join(dir, "joined.bin")).equals(bin)).toBe(true);

    const batch = run([
      "batch",
      "--prefix",
      join(dir, "joined"),
      "--step",
      "1",
      "--batch-size",
      "2",
      "--json",
    ]);
    expect(batch.code, batch.stderr).toBe(0);
    expect(JSON.parse(batch.stdout).sequences).toEqual([rows[2], rows[3]]);
    const wrong = run([
      "batch",
      "--prefix",
      join(dir, "joined"),
      "--step",
      "0",
      "--batch-size",
      "2",
      "--seq-length",
      "2048",
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /every item holds 65 tokens, so rows are 65 tokens \(seq length 64\), but the seq length asked for is 2048/,
    );
  });

  it("reports a size mismatch with the .idx in one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "pythia-unshard-cli-"));
    writeFileSync(
      join(dir, "docs.json"),
      JSON.stringify([
        [1, 2, 3],
        [4, 5],
      ]),
    );
    expect(run(["write", "--docs", join(dir, "docs.json"), "--output-prefix", join(dir, "d")]).code).toBe(0);
    writeFileSync(join(dir, "d-00000-of-00001.bin"), readFileSync(join(dir, "d.bin")).subarray(0, 6));
    const { code, stderr } = run([
      "unshard",
      "--input",
      join(dir, "d-*-of-*.bin"),
      "--idx",
      join(dir, "d.idx"),
      "--output-prefix",
      join(dir, "o"),
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /d\.idx: describes 10 bytes of tokens but the 1 shards hold 6; a shard is missing or truncated/,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
