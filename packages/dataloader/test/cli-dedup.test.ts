// pythia-data dedup, run as users run it: a child process over the built package.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packagePath, temporaryDirectories } from "./helpers.js";

const cli = packagePath("dist/cli.js");
const directory = temporaryDirectories("dedup-cli");

function run(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function corpus(dir: string): string {
  const base = Array.from({ length: 80 }, (_, i) => `word${(i * 31) % 97}`).join(" ");
  const lines = [base, "something else entirely, said once", base.replace("word0", "WORD0"), base].map(
    (text) => JSON.stringify({ text }),
  );
  const file = join(dir, "in.jsonl");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

describe("pythia-data dedup", () => {
  it("writes the kept documents and the report, prints a summary and progress", () => {
    const dir = directory();
    const input = corpus(dir);
    const { code, stdout, stderr } = run([
      "dedup",
      "--input",
      input,
      "--output-prefix",
      join(dir, "out"),
      "--workers",
      "1",
    ]);
    expect(stderr).toContain("dedup: signatures");
    expect(stderr).toContain("dedup: 2 of 4 documents are near-duplicates");
    expect(code).toBe(0);
    expect(stdout).toContain("documents  4\nkept       2\ndropped    2 (50.00%), in 1 clusters (largest 3)");
    expect(stdout).toContain("lsh        7 bands x 18 rows of 128 (threshold 0.87, keep last)");
    const kept = readFileSync(join(dir, "out.jsonl"), "utf8").trimEnd().split("\n");
    expect(kept.map((line) => (JSON.parse(line) as { text: string }).text.slice(0, 14))).toEqual([
      "something else",
      "word0 word31 w",
    ]);
    const report = JSON.parse(readFileSync(join(dir, "out.dedup-report.json"), "utf8")) as {
      dropped: number;
    };
    expect(report.dropped).toBe(2);
  });

  it("--json prints the report; --threshold, --num-perm, --keep and --seed reach it", () => {
    const dir = directory();
    const input = corpus(dir);
    const { code, stdout } = run([
      "dedup",
      "--input",
      input,
      "--output-prefix",
      join(dir, "out"),
      "--threshold",
      "0.5",
      "--num-perm",
      "64",
      "--keep",
      "first",
      "--seed",
      "9",
      "--workers",
      "0",
      "--json",
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ threshold: 0.5, numPerm: 64, keep: "first", seed: 9, documents: 4 });
  });

  it("usage errors exit 2, input errors exit 1, each in one line", () => {
    const dir = directory();
    const input = corpus(dir);
    const out = join(dir, "out");
    expect(run(["dedup", "--input", input, "--output-prefix", out, "--threshold", "1.5"]).code).toBe(2);
    expect(run(["dedup", "--input", input, "--output-prefix", out, "--keep", "middle"]).code).toBe(2);
    const lonely = run(["dedup", "--input", input, "--output-prefix", out, "--bands", "4"]);
    expect(lonely.code).toBe(2);
    expect(lonely.stderr).toBe(
      "error: --bands and --rows go together (leave both out for datasketch's optimum for --threshold)\n",
    );
    const missing = run(["dedup", "--input", join(dir, "nope.jsonl"), "--output-prefix", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: cannot read input .*nope\.jsonl \(ENOENT\)\n$/);
    expect(existsSync(`${out}.jsonl`)).toBe(false);
  });

  it("the README's example prints what it shows and keeps ids 2, 3, 4", () => {
    const readme = readFileSync(packagePath("README.md"), "utf8");
    const example =
      /```sh\n(printf[\s\S]*?pythia-data dedup --input docs\.jsonl[\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const shown = [...example.matchAll(/^# (.*)$/gm)].map((match) => match[1]);
    expect(shown).toHaveLength(4);
    const dir = directory();
    mkdirSync(join(dir, "bin"));
    const shim = join(dir, "bin", "pythia-data");
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
    chmodSync(shim, 0o755);
    const result = spawnSync("sh", ["-e", "-c", example], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}` },
    });
    expect(result.status, result.stderr).toBe(0);
    for (const line of shown) {
      expect(result.stdout).toContain(`${line}\n`);
    }
    const kept = readFileSync(join(dir, "deduped/docs.jsonl"), "utf8").trimEnd().split("\n");
    expect(kept.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual([2, 3, 4]);
  });
});
