// Near-deduplication throughput and memory of @pythia/dataloader's `dedup` (MinHash LSH, threshold 0.87,
// 128 permutations, word 5-grams) at three corpus sizes, on 0 (main thread), 1 and 2 worker threads.
//
// References measured in the same run: (1) `workers: 0`, the single-thread pipeline; (2) when python3
// with numpy is on the PATH, datasketch's algorithm re-typed in numpy (datasketch itself cannot be
// installed here: no PyPI): `MinHash.update_batch` (SHA-1 of each shingle, (a·h + b) mod (2^61 − 1)
// & 0xffffffff, minimum) and `MinHashLSH` insert/query with the same bands and rows, over the same
// word 5-gram shingles, timed inside Python on the smallest corpus.
//
// Run from packages/dataloader after building (npx tsup): node bench/dedup.mjs [--scale 1]
// Corpus: documents of ~3 KB built from random Tiny Shakespeare paragraphs and LAMBADA passages from
// $PYTHIA_SHARED_DATA (default <repo>/../shared/data), with 10% planted near-copies (0–3% word edits).
// Each measurement runs in a fresh child process so that its peak RSS is its own.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(import.meta.url);

if (process.argv[2] === "--child") {
  const { dedup } = await import("../dist/index.js");
  const [input, prefix, workers] = process.argv.slice(3);
  const baseline = process.memoryUsage().rss;
  const report = await dedup({
    inputs: [input],
    outputPrefix: prefix,
    workers: Number(workers),
    sampleSize: 20,
  });
  process.stdout.write(
    JSON.stringify({
      documents: report.documents,
      dropped: report.dropped,
      elapsedMs: report.elapsedMs,
      memory: report.memory,
      sampleStats: report.sampleStats,
      baselineRss: baseline,
      maxRss: process.resourceUsage().maxRSS * 1024,
      // CPU seconds of the whole process (main thread and workers): less sensitive than wall time to
      // other jobs sharing the machine.
      cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    }),
  );
  process.exit(0);
}

const scaleArgument = process.argv.indexOf("--scale");
const scale = scaleArgument === -1 ? 1 : Number(process.argv[scaleArgument + 1]);
const repoRoot = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const shared = process.env.PYTHIA_SHARED_DATA ?? path.resolve(repoRoot, "../shared/data");
const read = (relative) => {
  const file = path.join(shared, relative);
  try {
    return readFileSync(file, "utf8");
  } catch {
    console.error(`missing ${file}: set PYTHIA_SHARED_DATA to the folder holding shared/data`);
    process.exit(1);
  }
};
const passages = [
  ...read("corpus/tinyshakespeare/input.txt").split(/\n\s*\n/),
  ...read("eval/lambada_openai/lambada_test.jsonl")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).text),
].filter((text) => text.length > 40);

/** xorshift32: a fixed corpus for a fixed seed. */
function random(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

function buildCorpus(documents, seed) {
  const next = random(seed);
  const texts = [];
  while (texts.length < documents) {
    if (texts.length > 10 && next() < 0.1) {
      const words = texts[Math.floor(next() * texts.length)].split(" ");
      const edits = Math.floor(next() * 0.03 * words.length);
      for (let e = 0; e < edits; e++) {
        words[Math.floor(next() * words.length)] = `edit${Math.floor(next() * 1e6)}`;
      }
      texts.push(words.join(" "));
      continue;
    }
    let text = "";
    while (text.length < 3000) {
      text += `${passages[Math.floor(next() * passages.length)]}\n\n`;
    }
    texts.push(text);
  }
  return texts;
}

const dir = mkdtempSync(path.join(tmpdir(), "pythia-dedup-bench-"));
const sizes = [10_000, 20_000, 40_000].map((n) => Math.round(n * scale));
const corpora = sizes.map((documents, i) => {
  const file = path.join(dir, `corpus-${documents}.jsonl`);
  const lines = buildCorpus(documents, 1234 + i).map((text) => JSON.stringify({ text }));
  writeFileSync(file, `${lines.join("\n")}\n`);
  const textBytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  return { documents, file, bytes: textBytes };
});
console.log(
  `node ${process.version}, load average ${(await import("node:os"))
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);

function child(input, workers) {
  const result = spawnSync(
    process.execPath,
    [here, "--child", input, path.join(dir, `out-${workers}`), String(workers)],
    { encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (result.status !== 0) {
    console.error(result.stderr);
    process.exit(1);
  }
  return JSON.parse(result.stdout);
}

const rows = [];
for (const corpus of corpora) {
  const baseline = child(corpus.file, 0);
  for (const workers of [0, 1, 2]) {
    const run = workers === 0 ? baseline : child(corpus.file, workers);
    const seconds = run.elapsedMs.total / 1000;
    rows.push({
      documents: corpus.documents,
      MB: +(corpus.bytes / 1e6).toFixed(1),
      workers,
      seconds: +seconds.toFixed(2),
      "signatures s": +(run.elapsedMs.signatures / 1000).toFixed(2),
      "duplicates s": +(run.elapsedMs.duplicates / 1000).toFixed(2),
      "write s": +(run.elapsedMs.write / 1000).toFixed(2),
      "MB/s": +(corpus.bytes / 1e6 / seconds).toFixed(2),
      "CPU s": +run.cpuSeconds.toFixed(1),
      "MB per CPU s": +(corpus.bytes / 1e6 / run.cpuSeconds).toFixed(2),
      "docs/s": Math.round(corpus.documents / seconds),
      "vs workers 0": +(baseline.elapsedMs.total / run.elapsedMs.total).toFixed(2),
      dropped: run.dropped,
      "tables B/doc": Math.round((run.memory.signatureBytes + run.memory.indexBytes) / run.documents),
      "peak RSS MB": Math.round(run.maxRss / 1e6),
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
}
console.table(rows);

// Growth: wall and CPU seconds per 10k documents, per size, on 1 worker.
const oneWorker = rows.filter((row) => row.workers === 1);
console.log(
  "per 10k documents (1 worker), wall s / CPU s: " +
    oneWorker
      .map(
        (row) =>
          `${row.documents}: ${((row.seconds * 1e4) / row.documents).toFixed(2)} / ${((row["CPU s"] * 1e4) / row.documents).toFixed(2)}`,
      )
      .join(", "),
);
// Memory per million documents: the signature store and LSH tables (accounted), and the RSS growth
// between the two larger corpora, per document, scaled to 1M.
const [, middle, large] = oneWorker;
const rssPerDocument =
  ((large["peak RSS MB"] - middle["peak RSS MB"]) * 1e6) / (large.documents - middle.documents);
console.log(
  `memory per 1M documents: tables ${((large["tables B/doc"] * 1e6) / 2 ** 30).toFixed(2)} GiB; peak RSS growth ${((rssPerDocument * 1e6) / 2 ** 30).toFixed(2)} GiB (the ~3 KB documents in flight included)`,
);

// Reference: datasketch's algorithm in numpy, on the smallest corpus.
const python = String.raw`
import hashlib, json, re, struct, sys, time
import numpy as np
path, bands, rows, num_perm, threshold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 128, 0.87
p = np.uint64((1 << 61) - 1); max_hash = np.uint64((1 << 32) - 1)
gen = np.random.RandomState(1)
perms = np.array([(gen.randint(1, p, dtype=np.uint64), gen.randint(0, p, dtype=np.uint64)) for _ in range(num_perm)], dtype=np.uint64).T
a, b = perms
token = re.compile(r"[\w]+|[^\w\s]")
def minhash(text):
    words = token.findall(text)
    n = 5 if len(words) >= 5 else len(words)
    shingles = {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)} if words else set()
    hv = np.array([struct.unpack("<I", hashlib.sha1(s.encode("utf8")).digest()[:4])[0] for s in shingles], dtype=np.uint64)
    values = np.full(num_perm, max_hash, dtype=np.uint64)
    if len(hv):
        phv = np.bitwise_and((np.outer(hv, a) + b) % p, max_hash)
        values = np.minimum(phv.min(axis=0), values)
    return values
started = time.perf_counter(); cpu_started = time.process_time()
tables = [dict() for _ in range(bands)]
signatures = []
dropped = 0
with open(path, encoding="utf8") as f:
    for line in f:
        if not line.strip():
            continue
        sig = minhash(json.loads(line)["text"])
        keys = [bytes(sig[i * rows:(i + 1) * rows].byteswap().data) for i in range(bands)]
        found = False
        for key, table in zip(keys, tables):
            for other in table.get(key, ()):
                if np.count_nonzero(signatures[other] == sig) >= threshold * num_perm:
                    found = True
                    break
            if found:
                break
        dropped += found
        for key, table in zip(keys, tables):
            table.setdefault(key, []).append(len(signatures))
        signatures.append(sig)
print(json.dumps({"seconds": time.perf_counter() - started, "cpuSeconds": time.process_time() - cpu_started, "documents": len(signatures), "dropped": dropped}))
`;
const smallest = corpora[0];
const reference = spawnSync("python3", ["-c", python, smallest.file, "7", "18"], {
  encoding: "utf8",
  maxBuffer: 1 << 24,
});
if (reference.status === 0) {
  const measured = JSON.parse(reference.stdout);
  const ours = rows.filter((row) => row.documents === smallest.documents);
  console.log(
    `datasketch algorithm in numpy (1 thread, ${measured.documents} documents, ${measured.dropped} near-duplicates of an earlier one): ${measured.seconds.toFixed(2)} s, ${(smallest.bytes / 1e6 / measured.seconds).toFixed(2)} MB/s, ${measured.cpuSeconds.toFixed(1)} CPU s; ` +
      ours
        .map(
          (row) =>
            `ours with ${row.workers} workers ${(measured.seconds / row.seconds).toFixed(1)}x wall, ${(measured.cpuSeconds / row["CPU s"]).toFixed(1)}x CPU`,
        )
        .join(", "),
  );
} else {
  console.log(
    `python3 with numpy unavailable (${reference.stderr.trim().split("\n").at(-1)}): no numpy reference`,
  );
}
rmSync(dir, { recursive: true, force: true });
