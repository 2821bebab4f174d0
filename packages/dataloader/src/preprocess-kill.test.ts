// Kill -9 at random moments of `pythia-data preprocess`, then run it again: the dataset equals an
// uninterrupted run's byte for byte and no temporary file remains (issue #13).
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeByteTokenizer } from "../test/byte-tokenizer.js";
import { packagePath, temporaryDirectories } from "../test/helpers.js";

const cli = packagePath("dist/cli.js");
const scratch = temporaryDirectories("preprocess-kill");
/** Kills per run of the suite; PYTHIA_KILL_RUNS raises it. */
const KILLS = Number(process.env.PYTHIA_KILL_RUNS ?? 6);

function args(input: string, prefix: string, tokenizer: string): string[] {
  return [
    cli,
    "preprocess",
    "--input",
    input,
    "--output-prefix",
    prefix,
    "--tokenizer",
    tokenizer,
    "--workers",
    "2",
  ];
}

/** Starts preprocess and SIGKILLs it after `delayMs`; resolves once it is gone. */
function killAfter(commandArgs: string[], delayMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, commandArgs, { stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("preprocess survives kill -9", () => {
  it(
    `${KILLS} kills at random moments, each followed by a rerun, give the uninterrupted bytes`,
    async () => {
      const dir = scratch();
      const tokenizer = writeByteTokenizer(dir);
      const input = join(dir, "corpus.jsonl");
      // 2 MB, several batches and one mid-stream flush of the .bin.
      const lines = Array.from({ length: 2500 }, (_, i) =>
        JSON.stringify({ text: `document ${i}: ${"lorem ipsum dolor sit amet ".repeat(30)}` }),
      );
      writeFileSync(input, `${lines.join("\n")}\n`);
      const referencePrefix = join(dir, "reference", "out");
      const started = performance.now();
      const reference = spawnSync(process.execPath, args(input, referencePrefix, tokenizer), {
        encoding: "utf8",
      });
      const durationMs = performance.now() - started;
      expect(reference.status).toBe(0);
      const expected = {
        bin: readFileSync(`${referencePrefix}_text_document.bin`),
        idx: readFileSync(`${referencePrefix}_text_document.idx`),
      };
      const runDir = join(dir, "killed");
      const prefix = join(runDir, "out");
      const delays: number[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        // Spread over the whole run (start-up included), with jitter.
        const delay = Math.round(((kill + Math.random()) / KILLS) * durationMs);
        delays.push(delay);
        await killAfter(args(input, prefix, tokenizer), delay);
        const rerun = spawnSync(process.execPath, args(input, prefix, tokenizer), { encoding: "utf8" });
        expect(rerun.status, `rerun after a kill at ${delay} ms: ${rerun.stderr}`).toBe(0);
        expect(readFileSync(`${prefix}_text_document.bin`).equals(expected.bin), `kill at ${delay} ms`).toBe(
          true,
        );
        expect(readFileSync(`${prefix}_text_document.idx`).equals(expected.idx), `kill at ${delay} ms`).toBe(
          true,
        );
        expect(readdirSync(runDir).sort(), `kill at ${delay} ms`).toEqual([
          "out_text_document.bin",
          "out_text_document.idx",
        ]);
      }
      expect(delays).toHaveLength(KILLS);
    },
    Math.max(60_000, KILLS * 5_000),
  );
});
