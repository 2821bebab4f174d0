// BPE training speed: our trainBpe (the built dist/train.js) against Hugging Face tokenizers 0.22.2's
// BpeTrainer (the napi binding @anush008/tokenizers, a devDependency), same files, same settings (HF's
// defaults: vocab 30000, min frequency 0, ByteLevel pre-tokenizer without prefix space), on 1 and 2
// threads, in the same run. Every measurement is a fresh child process (cold JIT, as a CLI run is);
// the time is that of the training call alone (ours: `trainBpe`, workers started inside; HF:
// `tokenizer.train([file])`, its Rayon pool sized by RAYON_NUM_THREADS). Medians of 3 interleaved
// runs. The first run of each pair also checks that both wrote the same vocab and merges.
//
//   npx tsup && node bench/train-throughput.mjs           # `pnpm bench:train`
//
// Corpora: Tiny Shakespeare (test/fixtures/bpe-train, 1.1 MB); the same file 10 times over (11 MB:
// counting-heavy, the same 15k distinct words); typescript@5.9.3 lib/typescript.js (9.1 MB of code,
// 51k distinct words: merge-heavy).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(import.meta.url);
const requireFromPackage = createRequire(new URL("../package.json", import.meta.url));

if (process.argv[2] === "--one") {
  await measureOne(process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6]);
} else {
  await main();
}

/** One measurement in this (fresh) process; prints {ms, countMs?} as JSON. */
async function measureOne(implementation, file, threads, out) {
  if (implementation === "hf") {
    const { Tokenizer, BPE, byteLevelPreTokenizer } = requireFromPackage("@anush008/tokenizers");
    const tokenizer = new Tokenizer(BPE.empty());
    tokenizer.setPreTokenizer(byteLevelPreTokenizer(false, true));
    const cpu = process.cpuUsage();
    const started = performance.now();
    tokenizer.train([file]);
    const ms = performance.now() - started;
    const cpuMs = cpuSince(cpu);
    tokenizer.save(out, false);
    process.stderr.write(`${JSON.stringify({ ms, cpuMs })}\n`);
    return;
  }
  const { trainBpe, trainedTokenizerJson } = await import("../dist/train.js");
  let countedAt = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const model = await trainBpe({
    files: [file],
    workers: threads,
    onProgress: (event) => {
      if (event.type === "words-counted") {
        countedAt = performance.now();
      }
    },
  });
  const ms = performance.now() - started;
  const cpuMs = cpuSince(cpu);
  writeFileSync(out, trainedTokenizerJson(model));
  process.stderr.write(`${JSON.stringify({ ms, cpuMs, countMs: countedAt - started })}\n`);
}

/** CPU time of the whole process (all threads: our workers, HF's Rayon pool) since `start`, in ms. */
function cpuSince(start) {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

function runOne(implementation, file, threads, out) {
  // HF prints progress bars on stdout; the measurement comes back on stderr (last line).
  const result = spawnSync(process.execPath, [here, "--one", implementation, file, String(threads), out], {
    env: { ...process.env, RAYON_NUM_THREADS: String(threads) },
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
  });
  if (result.status !== 0) {
    throw new Error(`${implementation} on ${file} failed (exit ${result.status}): ${result.stderr}`);
  }
  return JSON.parse(result.stderr.trim().split("\n").at(-1));
}

function sameModel(oursPath, hfPath) {
  const ours = JSON.parse(readFileSync(oursPath, "utf8")).model;
  const hf = JSON.parse(readFileSync(hfPath, "utf8")).model;
  const byId = (vocab) => JSON.stringify(Object.entries(vocab).sort((a, b) => a[1] - b[1]));
  return byId(ours.vocab) === byId(hf.vocab) && JSON.stringify(ours.merges) === JSON.stringify(hf.merges);
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "bpe-train-bench-"));
  const shakespeare = fileURLToPath(
    new URL("../test/fixtures/bpe-train/tinyshakespeare.txt", import.meta.url),
  );
  const shakespeare10 = join(dir, "tinyshakespeare-x10.txt");
  writeFileSync(shakespeare10, readFileSync(shakespeare, "utf8").repeat(10));
  const typescript = requireFromPackage.resolve("typescript/lib/typescript.js");
  const corpora = [
    ["shakespeare", shakespeare],
    ["shakespeare x10", shakespeare10],
    ["typescript.js", typescript],
  ];
  const reps = 3;
  const rows = [];
  for (const [name, file] of corpora) {
    const megabytes = statSync(file).size / 1e6;
    for (const threads of [1, 2]) {
      const times = { ours: [], hf: [], count: [], oursCpu: [], hfCpu: [] };
      let identical = true;
      for (let rep = 0; rep < reps; rep++) {
        const oursOut = join(dir, `ours.json`);
        const hfOut = join(dir, `hf.json`);
        const ours = runOne("ours", file, threads, oursOut);
        const hf = runOne("hf", file, threads, hfOut);
        times.ours.push(ours.ms);
        times.count.push(ours.countMs);
        times.hf.push(hf.ms);
        times.oursCpu.push(ours.cpuMs);
        times.hfCpu.push(hf.cpuMs);
        if (rep === 0) {
          identical = sameModel(oursOut, hfOut);
        }
      }
      const row = {
        corpus: name,
        megabytes,
        threads,
        oursMs: median(times.ours),
        oursCountMs: median(times.count),
        hfMs: median(times.hf),
        oursCpuMs: median(times.oursCpu),
        hfCpuMs: median(times.hfCpu),
        identical,
      };
      rows.push(row);
      process.stdout.write(
        `${name.padEnd(16)} ${megabytes.toFixed(2)} MB, ${threads} thread(s): ours ${row.oursMs.toFixed(0)} ms ` +
          `(counting ${row.oursCountMs.toFixed(0)} ms), HF ${row.hfMs.toFixed(0)} ms, ours/HF speed ` +
          `${(row.hfMs / row.oursMs).toFixed(2)}x; CPU ours ${row.oursCpuMs.toFixed(0)} ms, HF ${row.hfCpuMs.toFixed(0)} ms; ` +
          `same vocab and merges: ${identical}\n`,
      );
    }
  }
  process.stdout.write(
    "\n| corpus | MB | threads | ours (ms) | of which counting | HF (ms) | ours MB/s | HF MB/s | speed ratio (HF time / ours) | CPU ours (ms) | CPU HF (ms) | identical |\n",
  );
  process.stdout.write("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const row of rows) {
    process.stdout.write(
      `| ${row.corpus} | ${row.megabytes.toFixed(2)} | ${row.threads} | ${row.oursMs.toFixed(0)} | ${row.oursCountMs.toFixed(0)} | ` +
        `${row.hfMs.toFixed(0)} | ${(row.megabytes / (row.oursMs / 1000)).toFixed(2)} | ${(row.megabytes / (row.hfMs / 1000)).toFixed(2)} | ` +
        `${(row.hfMs / row.oursMs).toFixed(2)}x | ${row.oursCpuMs.toFixed(0)} | ${row.hfCpuMs.toFixed(0)} | ${row.identical ? "yes" : "NO"} |\n`,
    );
  }
  if (rows.some((row) => !row.identical)) {
    process.exitCode = 1;
  }
}
