// Batch-fetch throughput of @pythia/dataloader's IndexedDataset (positional reads, `fs.readSync` into
// one reused Uint16Array) on a Pythia-size batch (1024 rows x 2049 uint16 tokens = 4.2 MB), compared in
// the same run with a native mmap addon (mmap-io, when installed) and numpy's memmap (when python3 with
// numpy is available). Supports docs/decisions/0006-positional-reads-not-mmap.md.
//
// Run from packages/dataloader after building (as root for the cold runs):
//   npx tsup && MMAP_IO_PATH=/tmp/mmap-try/node_modules/mmap-io node --expose-gc bench/batch-fetch.mjs
// where /tmp/mmap-try holds `CXXFLAGS=-std=gnu++17 npm_config_nodedir=/usr npm install mmap-io@1.1.7`
// (optional: without it the mmap columns are left out). Results: BENCHMARKS.md.
//
// This is a benchmark, not a test: it prints ms/batch, GB/s and ratios, and exits non-zero only when a
// correctness check along the way fails (content of a fetched batch differs from the generator, or
// between implementations).
//
// Dataset: a synthetic "pre-shuffled-style" uint16 dataset of ROWS rows of 2049 tokens (default
// 1,000,000 rows = 4.098 GB), one item and one document per row, written once with
// IndexedDatasetBuilder and cached in $PYTHIA_BENCH_DIR (default /tmp/pythia-bench). Token j of row r
// is a deterministic xorshift32 stream seeded from r, modulo the Pythia vocabulary (50277).
//
// Access patterns (batch = 1024 rows):
//   seq     batch k = rows [k*1024, (k+1)*1024): one contiguous range of 1024*2049 tokens, read with one
//           readTokens call (mmap: one copy) into the reused buffer. Batches FIRST_BATCH, FIRST_BATCH+1, …
//   random  1024 uniformly random rows per batch (like index-map sampling), each read separately into
//           its slot of the reused buffer. The row numbers come from a seeded PRNG and are written to a
//           file so that every implementation (numpy too) fetches exactly the same rows.
//
// Implementations:
//   ours    IndexedDataset.readTokens(start, count, reusedUint16Array, offset)
//   mmap    mmap-io 1.1.7 (https://www.npmjs.com/package/mmap-io): the .bin mapped read-only (MAP_SHARED),
//           bytes copied with TypedArray.prototype.set into the same kind of reused Uint16Array. mmap-io
//           converts size and offset to a 32-bit int, so the file is mapped in windows of < 2 GiB at
//           offsets < 2 GiB (enough for files up to ~4 GiB; larger files are skipped). Loaded from
//           $MMAP_IO_PATH (a directory holding an installed mmap-io), else the bare specifier "mmap-io".
//   numpy   bench/numpy_memmap_batch.py in a child process: np.memmap(dtype=uint16).reshape(-1, 2049),
//           np.array(arr[a:b]) for seq and arr[rows] (fancy indexing) for random; it also reports
//           variants into a reused buffer (np.copyto / np.take(out=)) and a per-row loop.
//
// Page cache:
//   warm        after one sequential pass over the whole file (it fits in RAM); 2 + 20 batches, median.
//   cold-each   `sync; echo 3 > /proc/sys/vm/drop_caches` before every batch: a file far larger than RAM,
//               where nothing is reused or prefetched across batches. 2 + 20 batches, median.
//   cold-once   the page cache dropped once, then all 22 batches timed (median, first batch, total).
//   mmap-io + MADV_RANDOM is measured in the cold runs only. Cold runs need root; each runs in a fresh
//   child process (pages still mapped by a process survive drop_caches) and they go first, before this
//   process maps anything. "page cache" in the tables = growth of Cached in /proc/meminfo over the timed
//   batches, i.e. what the kernel read from disk. In a VM, "cold" means cold in the guest; the host may
//   still cache the disk image.
//
// Environment: PYTHIA_BENCH_DIR, PYTHIA_BENCH_ROWS (1000000), PYTHIA_BENCH_BATCHES (20),
// PYTHIA_BENCH_WARMUP (2), PYTHIA_BENCH_FIRST_BATCH (500), PYTHIA_BENCH_SEED (1234),
// PYTHIA_BENCH_COLD (1; 0 skips the cold runs), PYTHIA_BENCH_PYTHON (python3), MMAP_IO_PATH.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { IndexedDataset, IndexedDatasetBuilder } from "../dist/index.js";

const SEQ_LEN = 2049;
const BATCH = 1024;
const VOCAB = 50277;
const BATCH_TOKENS = BATCH * SEQ_LEN;
const BATCH_BYTES = BATCH_TOKENS * 2;

const scriptPath = fileURLToPath(import.meta.url);
const benchDir = path.dirname(scriptPath);
const env = process.env;
const config = {
  dir: env.PYTHIA_BENCH_DIR ?? "/tmp/pythia-bench",
  rows: intEnv("PYTHIA_BENCH_ROWS", 1_000_000),
  batches: intEnv("PYTHIA_BENCH_BATCHES", 20),
  warmup: intEnv("PYTHIA_BENCH_WARMUP", 2),
  firstBatch: intEnv("PYTHIA_BENCH_FIRST_BATCH", 500),
  seed: intEnv("PYTHIA_BENCH_SEED", 1234),
  cold: intEnv("PYTHIA_BENCH_COLD", 1) !== 0,
  python: env.PYTHIA_BENCH_PYTHON ?? "python3",
  mmapIoPath: env.MMAP_IO_PATH ?? null,
};
const prefix = path.join(config.dir, `synthetic-u16-${config.rows}x${SEQ_LEN}`);
const binPath = `${prefix}.bin`;
const indicesPath = path.join(
  config.dir,
  `random-rows-${config.rows}-${config.seed}-${(config.warmup + config.batches) * BATCH}.u32`,
);

const gc = typeof globalThis.gc === "function" ? globalThis.gc : () => {};

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    fail(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------------
// Deterministic content

/** Fills `out[offset .. offset+SEQ_LEN)` with row `row`'s tokens. */
function fillRow(row, out, offset = 0) {
  let x = (Math.imul(row + 1, 0x9e3779b1) ^ 0x5bd1e995) | 0;
  if (x === 0) {
    x = 1;
  }
  for (let j = 0; j < SEQ_LEN; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[offset + j] = (x >>> 0) % VOCAB;
  }
}

/** Checks every row of a batch buffer against the generator; returns the first mismatch or null. */
function verifyBatch(buffer, rows) {
  const expected = new Uint16Array(SEQ_LEN);
  for (let i = 0; i < rows.length; i++) {
    fillRow(rows[i], expected);
    for (let j = 0; j < SEQ_LEN; j++) {
      if (buffer[i * SEQ_LEN + j] !== expected[j]) {
        return `slot ${i} (row ${rows[i]}), token ${j}: got ${buffer[i * SEQ_LEN + j]}, expected ${expected[j]}`;
      }
    }
  }
  return null;
}

function checksum(buffer) {
  let sum = 0;
  for (let i = 0; i < buffer.length; i++) {
    sum += buffer[i];
  }
  return sum;
}

/** mulberry32: the row numbers of the random batches. */
function randomRows(count, rows, seed) {
  let a = seed >>> 0;
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * rows);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Dataset

function ensureDataset() {
  mkdirSync(config.dir, { recursive: true });
  const expectedBytes = config.rows * SEQ_LEN * 2;
  if (existsSync(binPath) && existsSync(`${prefix}.idx`) && statSync(binPath).size === expectedBytes) {
    console.log(`dataset: reusing ${prefix}.{bin,idx} (${(expectedBytes / 1e9).toFixed(3)} GB)`);
    return;
  }
  console.log(
    `dataset: writing ${prefix}.{bin,idx}: ${config.rows} rows x ${SEQ_LEN} uint16 tokens = ${(expectedBytes / 1e9).toFixed(3)} GB`,
  );
  const started = performance.now();
  const builder = IndexedDatasetBuilder.create({ prefix, dtype: "uint16" });
  const row = new Uint16Array(SEQ_LEN);
  const step = Math.max(1, Math.floor(config.rows / 20));
  try {
    for (let r = 0; r < config.rows; r++) {
      fillRow(r, row);
      builder.addItem(row);
      builder.endDocument();
      if ((r + 1) % step === 0) {
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(
          `  ${(((r + 1) / config.rows) * 100).toFixed(0).padStart(3)}%  ${r + 1} rows  ${seconds.toFixed(1)} s\n`,
        );
      }
    }
    const summary = builder.finalize();
    console.log(
      `dataset: done in ${((performance.now() - started) / 1000).toFixed(1)} s (${summary.items} items, ${summary.tokens} tokens, fsync included)`,
    );
  } catch (error) {
    builder.abort();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------
// Implementations: each returns { fetchSeq(k, out), fetchRows(rows, out), close() }

function openOurs() {
  const dataset = IndexedDataset.open(prefix);
  return {
    name: "ours",
    fetchSeq(k, out) {
      dataset.readTokens(k * BATCH_TOKENS, BATCH_TOKENS, out, 0);
    },
    fetchRows(rows, out) {
      for (let i = 0; i < rows.length; i++) {
        dataset.readTokens(rows[i] * SEQ_LEN, SEQ_LEN, out, i * SEQ_LEN);
      }
    },
    close() {
      dataset.close();
    },
  };
}

const INT32_MAX = 2 ** 31 - 1;

function loadMmapIo() {
  const require = createRequire(import.meta.url);
  const specifier = config.mmapIoPath ? path.resolve(config.mmapIoPath) : "mmap-io";
  let mmap;
  try {
    const loaded = require(specifier);
    mmap = loaded.default ?? loaded;
  } catch (error) {
    return { mmap: null, version: null, error: `${specifier}: ${error.message.split("\n")[0]}` };
  }
  let version = "?";
  try {
    const pkg = config.mmapIoPath
      ? path.join(specifier, "package.json")
      : require.resolve("mmap-io/package.json");
    version = JSON.parse(readFileSync(pkg, "utf8")).version;
  } catch {
    // version unknown
  }
  return { mmap, version, error: null };
}

/**
 * Maps the .bin in windows of < 2 GiB (mmap-io takes size and offset as int32). `advise` is passed to
 * mmap-io's map() (0 = none, mmap.MADV_RANDOM turns off the kernel's read-around on page faults).
 */
function openMmap(mmap, advise = 0) {
  const fd = openSync(binPath, "r");
  const fileBytes = fstatSync(fd).size;
  const page = mmap.PAGESIZE;
  const windowBytes = Math.floor(INT32_MAX / page) * page;
  const windows = [];
  for (let offset = 0; offset < fileBytes; offset += windowBytes) {
    if (offset > INT32_MAX) {
      closeSync(fd);
      throw new Error(
        `mmap-io cannot map offsets above 2^31-1 bytes; this ${fileBytes}-byte file needs offset ${offset}`,
      );
    }
    const size = Math.min(windowBytes, fileBytes - offset);
    const buffer = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, fd, offset, advise);
    windows.push({ offset, size, buffer, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, size) });
  }
  const copy = (byteStart, byteLength, outBytes, outByteOffset) => {
    while (byteLength > 0) {
      const w = windows[Math.floor(byteStart / windowBytes)];
      const relative = byteStart - w.offset;
      const n = Math.min(byteLength, w.size - relative);
      outBytes.set(w.bytes.subarray(relative, relative + n), outByteOffset);
      byteStart += n;
      byteLength -= n;
      outByteOffset += n;
    }
  };
  let outBytes = null;
  let outOwner = null;
  const bytesOf = (out) => {
    if (outOwner !== out) {
      outOwner = out;
      outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    return outBytes;
  };
  return {
    windows: windows.length,
    fetchSeq(k, out) {
      copy(k * BATCH_BYTES, BATCH_BYTES, bytesOf(out), 0);
    },
    fetchRows(rows, out) {
      const bytes = bytesOf(out);
      for (let i = 0; i < rows.length; i++) {
        copy(rows[i] * SEQ_LEN * 2, SEQ_LEN * 2, bytes, i * SEQ_LEN * 2);
      }
    },
    close() {
      windows.length = 0;
      closeSync(fd);
    },
  };
}

/** What mmap-io does with sizes and offsets at or above 2^31 (it converts them with ToInt32). */
function probeMmapLimits(mmap) {
  const fd = openSync(binPath, "r");
  const results = [];
  const attempt = (label, size, offset) => {
    try {
      const buffer = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, fd, offset);
      results.push(`${label}: ok (Buffer of ${buffer.length} bytes)`);
    } catch (error) {
      results.push(`${label}: throws "${error.message}"`);
    }
  };
  attempt("map(size 2^31, offset 0)", 2 ** 31, 0);
  attempt("map(size 4096, offset 2^31)", 4096, 2 ** 31);
  closeSync(fd);
  return results;
}

const IMPLS = {
  ours: { label: "ours (readTokens)", open: () => openOurs() },
  mmap: { label: "mmap-io", open: (mmap) => openMmap(mmap) },
  "mmap-rand": { label: "mmap-io + MADV_RANDOM", open: (mmap) => openMmap(mmap, mmap.MADV_RANDOM) },
};

// ---------------------------------------------------------------------------------------------------
// Measurement

function loadIndices() {
  const count = (config.warmup + config.batches) * BATCH;
  if (!existsSync(indicesPath)) {
    const rows = randomRows(count, config.rows, config.seed);
    writeFileSync(indicesPath, new Uint8Array(rows.buffer));
  }
  const raw = readFileSync(indicesPath);
  return new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function seqRows(k) {
  return Array.from({ length: BATCH }, (_, i) => k * BATCH + i);
}

function cachedMB() {
  const match = /\nCached:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

function dropCaches() {
  try {
    spawnSync("sync");
    writeFileSync("/proc/sys/vm/drop_caches", "3");
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error.code ?? error.message };
  }
}

/**
 * Runs WARMUP + BATCHES batches of one pattern on one implementation. cold: null (warm: the first
 * WARMUP batches untimed), "each" (page cache dropped before every batch, warm-up batches included) or
 * "once" (page cache dropped once before the series; every batch timed, no warm-up). Returns the
 * timings, the growth of the page cache, the last batch's checksum and a content check.
 */
function measure(impl, pattern, indices, cold = null) {
  const out = new Uint16Array(BATCH_TOKENS);
  const n = config.warmup + config.batches;
  const skip = cold === "once" ? 0 : config.warmup;
  const times = [];
  let rows = null;
  let readMB = 0;
  if (cold === "once") {
    dropCaches();
  }
  gc();
  for (let b = 0; b < n; b++) {
    if (cold === "each") {
      dropCaches();
    }
    const before = cachedMB();
    let t0;
    if (pattern === "seq") {
      const k = config.firstBatch + b;
      t0 = performance.now();
      impl.fetchSeq(k, out);
    } else {
      rows = indices.subarray(b * BATCH, (b + 1) * BATCH);
      t0 = performance.now();
      impl.fetchRows(rows, out);
    }
    const ms = performance.now() - t0;
    if (b >= skip) {
      times.push(ms);
      readMB += cachedMB() - before;
    }
  }
  const lastRows = pattern === "seq" ? seqRows(config.firstBatch + n - 1) : rows;
  const problem = verifyBatch(out, lastRows);
  return {
    times,
    medianMs: median(times),
    firstMs: times[0],
    totalMs: times.reduce((a, b) => a + b, 0),
    pageCacheGrowthMB: readMB,
    checksum: checksum(out),
    problem,
  };
}

function gbps(ms) {
  return BATCH_BYTES / 1e9 / (ms / 1000);
}

function runPython(extraArgs) {
  const script = path.join(benchDir, "numpy_memmap_batch.py");
  const args = [
    script,
    binPath,
    "--seq-len",
    String(SEQ_LEN),
    "--batch",
    String(BATCH),
    "--batches",
    String(config.batches),
    "--warmup",
    String(config.warmup),
    "--first-batch",
    String(config.firstBatch),
    "--indices",
    indicesPath,
    "--json",
    ...extraArgs,
  ];
  const result = spawnSync(config.python, args, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (result.status !== 0) {
    throw new Error(`numpy script failed (${result.status}): ${result.stderr.trim().split("\n").pop()}`);
  }
  return JSON.parse(result.stdout);
}

function numpyAvailable() {
  const probe = spawnSync(config.python, ["-c", "import numpy; print(numpy.__version__)"], {
    encoding: "utf8",
  });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

/** Child mode: measures one (implementation, pattern, cold mode) in a fresh process, prints JSON. */
function child(spec) {
  const indices = loadIndices();
  let mmap = null;
  if (spec.impl !== "ours") {
    const loaded = loadMmapIo();
    if (!loaded.mmap) {
      throw new Error(`mmap-io not loadable: ${loaded.error}`);
    }
    mmap = loaded.mmap;
  }
  const impl = IMPLS[spec.impl].open(mmap);
  const result = measure(impl, spec.pattern, indices, spec.cold);
  impl.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(spec) {
  const result = spawnSync(process.execPath, ["--expose-gc", scriptPath, "--child", JSON.stringify(spec)], {
    encoding: "utf8",
    env: process.env,
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0) {
    throw new Error(`child ${JSON.stringify(spec)} failed: ${result.stderr.trim()}`);
  }
  return JSON.parse(result.stdout.trim().split("\n").pop());
}

// ---------------------------------------------------------------------------------------------------
// Report

const NUMPY_VARIANTS = {
  seq: [
    ["seq", "numpy np.array(arr[a:b])"],
    ["seq_copyto", "numpy np.copyto(reused, arr[a:b])"],
  ],
  random: [
    ["fancy", "numpy arr[rows] (fancy indexing)"],
    ["take_out", "numpy np.take(arr, rows, out=reused)"],
    ["per_row", "numpy per-row loop into reused"],
  ],
};

/** Rows of { label, medianMs, firstMs, totalMs, growthMB } for one phase and pattern. */
function phaseRows(phase, pattern) {
  const rows = [];
  for (const [key, impl] of Object.entries(IMPLS)) {
    const r = phase[`${key}.${pattern}`];
    if (r) {
      rows.push({ label: impl.label, ...r, growthMB: r.pageCacheGrowthMB });
    }
  }
  for (const [key, label] of NUMPY_VARIANTS[pattern]) {
    const r = phase.numpy?.[key];
    if (r) {
      rows.push({
        label,
        medianMs: r.median_ms,
        firstMs: r.first_ms,
        totalMs: r.total_ms,
        growthMB: r.page_cache_growth_mb,
        checksum: r.checksum,
      });
    }
  }
  return rows;
}

function table(phase, title, withCold) {
  const lines = ["", `### ${title}`, ""];
  const header = withCold
    ? "| pattern | implementation | median ms/batch | median GB/s | first batch ms | total ms | page cache growth MB | ours/ref speed |"
    : "| pattern | implementation | median ms/batch | median GB/s | ours/ref speed |";
  lines.push(
    header,
    header.replace(/[^|]+/g, (cell) => "-".repeat(Math.max(3, cell.length))),
  );
  for (const pattern of ["seq", "random"]) {
    const rows = phaseRows(phase, pattern);
    const ours = phase[`ours.${pattern}`];
    for (const r of rows) {
      const ratio = ours && r !== rows[0] ? `${(r.medianMs / ours.medianMs).toFixed(2)}x` : "";
      const cells = [pattern, r.label, r.medianMs.toFixed(2), gbps(r.medianMs).toFixed(2)];
      if (withCold) {
        cells.push(r.firstMs.toFixed(1), r.totalMs.toFixed(0), r.growthMB.toFixed(0));
      }
      cells.push(ratio);
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Main

function main() {
  const childIndex = process.argv.indexOf("--child");
  if (childIndex !== -1) {
    child(JSON.parse(process.argv[childIndex + 1]));
    return;
  }
  const startedAll = performance.now();
  console.log(
    `batch fetch: ${BATCH} x ${SEQ_LEN} uint16 tokens = ${(BATCH_BYTES / 1e6).toFixed(3)} MB per batch; ` +
      `${config.warmup} warm-up + ${config.batches} timed batches, median`,
  );
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`,
  );
  ensureDataset();
  if (config.firstBatch + config.warmup + config.batches > Math.floor(config.rows / BATCH)) {
    fail(`PYTHIA_BENCH_FIRST_BATCH=${config.firstBatch} leaves too few batches in ${config.rows} rows`);
  }
  const indices = loadIndices();
  const fileBytes = statSync(binPath).size;

  const mmapLoad = loadMmapIo();
  let mmapUsable = mmapLoad.mmap !== null;
  if (mmapUsable) {
    console.log(`mmap: mmap-io ${mmapLoad.version} loaded`);
    if (fileBytes > 2 * Math.floor(INT32_MAX / mmapLoad.mmap.PAGESIZE) * mmapLoad.mmap.PAGESIZE) {
      console.log("mmap: the file is larger than mmap-io can map (offsets are int32); skipping mmap");
      mmapUsable = false;
    }
  } else {
    console.log(`mmap: not measured (${mmapLoad.error}); set MMAP_IO_PATH to an installed mmap-io`);
  }
  const numpyVersion = numpyAvailable();
  console.log(numpyVersion ? `numpy: ${numpyVersion}` : `numpy: not available (${config.python})`);

  const results = { warm: {}, "cold-each": {}, "cold-once": {} };
  const check = (label, r) => {
    if (r.problem) {
      fail(`${label}: fetched batch differs from the generator: ${r.problem}`);
    }
  };
  const log = (phase, impl, pattern, r) =>
    console.log(
      `${phase.padEnd(9)} ${impl.padEnd(9)} ${pattern.padEnd(6)} median ${r.medianMs.toFixed(2).padStart(8)} ms/batch ${gbps(r.medianMs).toFixed(2).padStart(6)} GB/s` +
        (phase === "warm"
          ? ""
          : `  first ${r.firstMs.toFixed(1)} ms, total ${r.totalMs.toFixed(0)} ms, page cache +${r.pageCacheGrowthMB.toFixed(0)} MB`),
    );

  // Cold first, each run in a fresh child process, while this process maps nothing.
  let coldNote = null;
  if (!config.cold) {
    coldNote = "cold runs disabled (PYTHIA_BENCH_COLD=0)";
  } else if (!dropCaches().ok) {
    coldNote = `cannot write /proc/sys/vm/drop_caches (${dropCaches().error}): cold runs skipped (they need root)`;
  } else {
    for (const cold of ["each", "once"]) {
      const phase = `cold-${cold}`;
      for (const impl of ["ours", ...(mmapUsable ? ["mmap", "mmap-rand"] : [])]) {
        for (const pattern of ["seq", "random"]) {
          const r = runChild({ impl, pattern, cold });
          check(`${phase} ${impl} ${pattern}`, r);
          results[phase][`${impl}.${pattern}`] = r;
          log(phase, impl, pattern, r);
        }
      }
      if (numpyVersion) {
        const r = runPython(["--cold", cold]);
        results[phase].numpy = r;
        console.log(
          `${phase.padEnd(9)} numpy     seq median ${r.seq.median_ms.toFixed(2)} ms, random (fancy) median ${r.fancy.median_ms.toFixed(2)} ms`,
        );
      }
    }
  }
  if (coldNote) {
    console.log(coldNote);
  }

  // Warm: one sequential pass over the whole file, then every implementation in this process.
  {
    const dataset = IndexedDataset.open(prefix);
    const chunk = new Uint16Array(1 << 25);
    const t0 = performance.now();
    for (let start = 0; start < dataset.tokenCount; start += chunk.length) {
      dataset.readTokens(start, Math.min(chunk.length, dataset.tokenCount - start), chunk);
    }
    const seconds = (performance.now() - t0) / 1000;
    dataset.close();
    results.scan = { seconds, gbps: fileBytes / 1e9 / seconds };
    console.log(
      `warm-up: one pass over the whole file with readTokens (64 MiB chunks; from disk where the cold runs left it uncached): ${seconds.toFixed(2)} s, ${results.scan.gbps.toFixed(2)} GB/s`,
    );
  }
  let mmapProbe = null;
  for (const name of ["ours", ...(mmapUsable ? ["mmap"] : [])]) {
    const impl = IMPLS[name].open(mmapLoad.mmap);
    if (name === "mmap") {
      console.log(`mmap: the ${(fileBytes / 1e9).toFixed(3)} GB file is mapped in ${impl.windows} windows`);
      mmapProbe = probeMmapLimits(mmapLoad.mmap);
    }
    for (const pattern of ["seq", "random"]) {
      const r = measure(impl, pattern, indices);
      check(`warm ${name} ${pattern}`, r);
      results.warm[`${name}.${pattern}`] = r;
      log("warm", name, pattern, r);
    }
    impl.close();
  }
  if (numpyVersion) {
    const r = runPython([]);
    results.warm.numpy = r;
    console.log(
      `warm      numpy     seq median ${r.seq.median_ms.toFixed(2)} ms, random (fancy) median ${r.fancy.median_ms.toFixed(2)} ms`,
    );
  }

  // Cross-check: the last batch of a pattern has the same checksum everywhere.
  for (const [phaseName, phase] of Object.entries(results)) {
    if (phaseName === "scan") {
      continue;
    }
    for (const pattern of ["seq", "random"]) {
      const rows = phaseRows(phase, pattern);
      for (const r of rows) {
        if (r.checksum !== rows[0].checksum) {
          fail(
            `${phaseName} ${pattern}: checksum of the last batch differs: ${rows[0].label} ${rows[0].checksum}, ${r.label} ${r.checksum}`,
          );
        }
      }
    }
  }

  console.log(table(results.warm, "warm page cache (after one pass over the file)", false));
  if (results["cold-each"]["ours.seq"]) {
    console.log(
      table(
        results["cold-each"],
        "cold, page cache dropped before every batch (a file far larger than RAM)",
        true,
      ),
    );
    console.log(
      table(results["cold-once"], "cold, page cache dropped once, then every batch timed (no warm-up)", true),
    );
  }
  console.log("\nours/ref speed = reference ms / ours ms (> 1: ours is faster); GB = 10^9 bytes.");
  if (coldNote) {
    console.log(`note: ${coldNote}`);
  }
  if (mmapProbe) {
    console.log(`mmap-io limits: ${mmapProbe.join("; ")}`);
  }
  console.log(
    `checks: every last batch matches the generator; checksums agree across implementations. Total ${((performance.now() - startedAll) / 1000).toFixed(1)} s`,
  );
}

main();
