// Training and forward throughput of @pythia/model (GPT-NeoX / Pythia in TensorFlow.js) on the wasm
// backend, against the PyTorch figures quoted in the issue, plus a per-kernel profile, a tensor-leak
// check and the peak memory of a pythia-410m forward. (tf.memory().numBytes is not used for memory:
// it counts live tensors only, while the wasm heap never shrinks and host copies add to RSS; the wasm
// heap and RSS are what the process really holds.)
//
// Run from packages/model after building: npx tsup && pnpm bench   (= node bench/throughput.mjs)
//
// This is a benchmark, not a test: no threshold on speed fails it. It exits non-zero only when a check
// it performs along the way fails (a loss that is not finite, tensors leaking across steps, or the
// 410m forward not fitting in 4 GiB).
//
// Method. Weights: `GPTNeoXModel.initialize({ config: pythiaPreset(name), seed: 1234 })` (random, as
// GPT-NeoX initialises them). Inputs: token ids uniform over the vocabulary from a seeded PRNG
// (mulberry32). Per shape, one untimed warm-up, then RUNS timed repetitions; tables show the median.
//   forward   logits `[B, T, V]` of `model.forward(ids)` (no tape), synchronised by reading them back
//             (`dataSync`); tokens/s = B·T / wall seconds.
//   training  `tf.variableGrads(() => model.loss(ids).loss, allParams)`, then a plain SGD update
//             `p.assign(p − lr·g)` on every parameter, the loss read back, the grads disposed;
//             tokens/s = B·T / wall seconds for the whole step.
// Also printed: process CPU seconds per call (all threads). On a shared machine the wall time includes
// waiting for the CPU; the 1-minute load average is printed with each result for that reason.
//
// Profile: `tf.profile` around one forward and one training step of pythia-70m; kernels summed by
// name. A custom-gradient op appears in tfjs' profile as a scope that contains the kernels it runs, so
// only registered kernels are summed (no double counting). Kernel times include the copies the tape
// makes of tensors saved for the backward pass (on wasm, tf.clone copies), which the profile also
// lists separately as `Identity`.
//
// Options (all optional):
//   --only=14m,70m        models to time (default both)
//   --runs=N              timed repetitions (default 3)
//   --skip-train          no training step (forward only)
//   --skip-profile        no per-kernel profile
//   --skip-memory         no pythia-410m memory check
//   --profile-only        only the profile (pythia-70m)
//   --threads=N           wasm threads, as initCompute({ threads }) (default: PYTHIA_WASM_THREADS or 1)
//   --share-identity      EXPERIMENTAL: wasm Identity shares its input's buffer (see shareIdentity)
//   --memory-child=T      internal: measure the 410m forward at B=1, T in a fresh process
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { GPTNeoXModel, initCompute, pythiaPreset } from "../dist/index.js";

// The reference: PyTorch 1.13 + HF transformers, measured on this machine type (2 cores),
// tokens/s. Not re-measured by this script (PyTorch is not installed here).
const PYTORCH_REFERENCE = {
  "pythia-14m": { batch: 4, seqLen: 512, train: 724, forward: 3262 },
  "pythia-70m": { batch: 2, seqLen: 512, train: 276, forward: 1223 },
};
const MEMORY_LIMIT_BYTES = 4 * 1024 ** 3;
const LR = 1e-4;
const SEED = 1234;

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key, value ?? "true"];
  }),
);
const RUNS = Number(args.get("runs") ?? 3);
const ONLY = (args.get("only") ?? "14m,70m")
  .split(",")
  .map((name) => `pythia-${name.replace(/^pythia-/, "")}`);
const THREADS = args.has("threads") ? Number(args.get("threads")) : undefined;

let failures = 0;
function check(ok, message) {
  if (!ok) {
    failures++;
    console.error(`CHECK FAILED: ${message}`);
  }
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomIds(batch, seqLen, vocab, seed) {
  const random = mulberry32(seed);
  const data = new Int32Array(batch * seqLen);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.floor(random() * vocab);
  }
  return tf.tensor2d(data, [batch, seqLen], "int32");
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const gib = (bytes) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
const fmt = (x, digits = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const load1 = () => os.loadavg()[0].toFixed(2);

/** Bytes of the wasm backend's linear memory (it only grows, so this is its peak), or NaN. */
function wasmHeapBytes() {
  const backend = tf.backend();
  return backend?.wasm?.HEAPU8?.length ?? NaN;
}

/**
 * EXPERIMENTAL. The wasm backend's Identity kernel (tf.clone, and every tensor the gradient tape saves
 * for the backward pass) copies the data; the cpu and webgl backends share the buffer instead, which is
 * safe because tfjs tensors are immutable. Re-registers Identity to share, as Reshape already does.
 */
function shareIdentity() {
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({
    kernelName: "Identity",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      backend.incRef(inputs.x.dataId);
      return { dataId: inputs.x.dataId, shape: [...inputs.x.shape], dtype: inputs.x.dtype };
    },
  });
}

function forwardOnce(model, ids) {
  const { logits } = model.forward(ids);
  logits.dataSync();
  logits.dispose();
}

function trainStep(model, variables, ids) {
  const { value, grads } = tf.variableGrads(() => model.loss(ids).loss, variables);
  tf.tidy(() => {
    for (const variable of variables) {
      variable.assign(tf.sub(variable, tf.mul(grads[variable.name], LR)));
    }
  });
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}

/** Warm-up, then RUNS timed calls; also checks that the tensor count is the same after every call. */
function timeRuns(label, fn) {
  fn(); // warm-up (kernel setup, heap growth)
  const before = tf.memory().numTensors;
  const seconds = [];
  const cpuSeconds = [];
  const counts = [];
  for (let i = 0; i < RUNS; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    fn();
    seconds.push((performance.now() - start) / 1000);
    const used = process.cpuUsage(cpu);
    cpuSeconds.push((used.user + used.system) / 1e6);
    counts.push(tf.memory().numTensors);
  }
  const leaked = counts[counts.length - 1] - before;
  check(
    leaked === 0,
    `${label}: ${leaked} tensors leaked over ${RUNS} calls (counts ${before} → ${counts.join(", ")})`,
  );
  return {
    seconds,
    cpuSeconds,
    median: median(seconds),
    cpuMedian: median(cpuSeconds),
    leaked,
    load: load1(),
  };
}

async function throughput() {
  const rows = [];
  for (const name of ONLY) {
    const reference = PYTORCH_REFERENCE[name];
    if (reference === undefined) {
      throw new Error(`no PyTorch reference for ${name}`);
    }
    const config = pythiaPreset(name);
    const model = GPTNeoXModel.initialize({ config, seed: SEED });
    const variables = Object.values(model.params);
    const ids = randomIds(reference.batch, reference.seqLen, config.vocabSize, SEED);
    const tokens = reference.batch * reference.seqLen;

    const fwd = timeRuns(`${name} forward`, () => forwardOnce(model, ids));
    let lastLoss = NaN;
    const train = args.has("skip-train")
      ? null
      : timeRuns(`${name} training step`, () => {
          lastLoss = trainStep(model, variables, ids);
        });
    if (train !== null) {
      check(Number.isFinite(lastLoss), `${name}: training loss ${lastLoss} is not finite`);
    }
    const row = { name, shape: `B=${reference.batch}, T=${reference.seqLen}`, tokens, fwd, train, reference };
    rows.push(row);
    const list = (values) => values.map((s) => s.toFixed(2)).join(", ");
    console.log(
      `${name} (${row.shape}): forward ${fmt(tokens / fwd.median)} tok/s [wall ${list(fwd.seconds)} s; cpu ${list(fwd.cpuSeconds)} s; load ${fwd.load}]` +
        (train === null
          ? ""
          : `, training ${fmt(tokens / train.median)} tok/s [wall ${list(train.seconds)} s; cpu ${list(train.cpuSeconds)} s; load ${train.load}], loss ${lastLoss.toFixed(4)}`) +
        `, tensors leaked: forward ${fwd.leaked}, training ${train?.leaked ?? "-"}; wasm heap ${gib(wasmHeapBytes())}`,
    );
    ids.dispose();
    model.dispose();
  }
  console.log(
    "\n| model | shape | ours forward tok/s | PyTorch forward tok/s | ratio | ours training tok/s | PyTorch training tok/s | ratio |",
  );
  console.log("|---|---|--:|--:|--:|--:|--:|--:|");
  for (const row of rows) {
    const f = row.tokens / row.fwd.median;
    const t = row.train === null ? NaN : row.tokens / row.train.median;
    console.log(
      `| ${row.name} | ${row.shape} | ${fmt(f)} | ${fmt(row.reference.forward)} | ${(f / row.reference.forward).toFixed(2)}x | ` +
        `${fmt(t)} | ${fmt(row.reference.train)} | ${(t / row.reference.train).toFixed(2)}x |`,
    );
  }
  console.log(
    "(PyTorch: the issue's figures for PyTorch 1.13 + HF transformers measured on this machine type; ratio = ours / PyTorch, > 1 means ours is faster)",
  );
}

/** Sums a tf.profile's registered kernels by name. */
function topKernels(profile, count) {
  const byName = new Map();
  let total = 0;
  for (const kernel of profile.kernels) {
    if (tf.getKernel(kernel.name, tf.getBackend()) === undefined) {
      continue; // a custom-gradient scope: its kernels are listed on their own
    }
    const ms = typeof kernel.kernelTimeMs === "number" ? kernel.kernelTimeMs : 0;
    total += ms;
    const entry = byName.get(kernel.name) ?? { name: kernel.name, ms: 0, count: 0 };
    entry.ms += ms;
    entry.count++;
    byName.set(kernel.name, entry);
  }
  const sorted = [...byName.values()].sort((a, b) => b.ms - a.ms);
  return { total, kernels: profile.kernels.length, top: sorted.slice(0, count) };
}

function printProfile(label, wallMs, summary) {
  console.log(
    `\n${label}: wall ${fmt(wallMs)} ms (profiled), kernel time ${fmt(summary.total)} ms, load ${load1()}`,
  );
  console.log("| kernel | total ms | count | share |");
  console.log("|---|--:|--:|--:|");
  for (const entry of summary.top) {
    console.log(
      `| ${entry.name} | ${fmt(entry.ms)} | ${entry.count} | ${((100 * entry.ms) / summary.total).toFixed(1)}% |`,
    );
  }
}

async function profile() {
  const name = "pythia-70m";
  const reference = PYTORCH_REFERENCE[name];
  const config = pythiaPreset(name);
  const model = GPTNeoXModel.initialize({ config, seed: SEED });
  const variables = Object.values(model.params);
  const ids = randomIds(reference.batch, reference.seqLen, config.vocabSize, SEED);
  // Otherwise the profiler reads every kernel output back to look for NaN.
  tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false);
  forwardOnce(model, ids);
  trainStep(model, variables, ids); // warm-up
  for (const [label, fn] of [
    [`${name} forward (B=${reference.batch}, T=${reference.seqLen})`, () => forwardOnce(model, ids)],
    [
      `${name} training step (B=${reference.batch}, T=${reference.seqLen})`,
      () => trainStep(model, variables, ids),
    ],
  ]) {
    const start = performance.now();
    const info = await tf.profile(fn);
    printProfile(label, performance.now() - start, topKernels(info, 12));
  }
  ids.dispose();
  model.dispose();
}

function vmHighWaterMark() {
  try {
    const line = readFileSync("/proc/self/status", "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmHWM:"));
    return line === undefined ? NaN : Number(line.split(/\s+/)[1]) * 1024;
  } catch {
    return NaN;
  }
}

/** In a fresh process: pythia-410m forward at B=1, T; prints one JSON line. */
async function memoryChild(seqLen) {
  await initCompute({ backend: "wasm" });
  const config = pythiaPreset("410m");
  const model = GPTNeoXModel.initialize({ config, seed: SEED });
  const ids = randomIds(1, seqLen, config.vocabSize, SEED);
  globalThis.gc?.(); // drop the host copies of the initial weights
  const paramBytes = Object.values(model.params).reduce((sum, p) => sum + 4 * p.size, 0);
  const afterInit = {
    rss: process.memoryUsage().rss,
    heap: wasmHeapBytes(),
    tensors: tf.memory().numTensors,
  };
  const start = performance.now();
  const { logits } = model.forward(ids);
  const values = logits.dataSync();
  if (!Number.isFinite(values[0])) {
    throw new Error("logit is not finite");
  }
  logits.dispose();
  const seconds = (performance.now() - start) / 1000;
  const result = {
    seqLen,
    seconds,
    paramBytes,
    afterInit,
    rss: process.memoryUsage().rss,
    vmHWM: vmHighWaterMark(),
    wasmHeap: wasmHeapBytes(),
    numTensorsLeaked: tf.memory().numTensors - afterInit.tensors,
  };
  ids.dispose();
  model.dispose();
  console.log(JSON.stringify(result));
}

function memory() {
  console.log("\npythia-410m forward, B=1, random weights, each in a fresh `node --expose-gc` process:");
  console.log(
    "| T | weights | wasm heap (peak) | RSS after init | RSS after forward | peak RSS (VmHWM, incl. init) | < 4 GiB | forward s |",
  );
  console.log("|--:|--:|--:|--:|--:|--:|:-:|--:|");
  for (const seqLen of [512, 2048]) {
    const script = fileURLToPath(import.meta.url);
    let result;
    try {
      const out = execFileSync(process.execPath, ["--expose-gc", script, `--memory-child=${seqLen}`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      });
      result = JSON.parse(out.trim().split("\n").pop());
    } catch (error) {
      check(false, `pythia-410m forward T=${seqLen} failed: ${String(error.message).split("\n")[0]}`);
      continue;
    }
    const peak = Math.max(result.vmHWM, result.rss);
    const fits = peak < MEMORY_LIMIT_BYTES;
    check(fits, `pythia-410m forward T=${seqLen} peak ${gib(peak)} is not under 4 GiB`);
    check(
      result.numTensorsLeaked === 0,
      `pythia-410m forward T=${seqLen} leaked ${result.numTensorsLeaked} tensors`,
    );
    console.log(
      `| ${seqLen} | ${gib(result.paramBytes)} | ${gib(result.wasmHeap)} | ${gib(result.afterInit.rss)} | ` +
        `${gib(result.rss)} | ${gib(result.vmHWM)} | ${fits ? "yes" : "NO"} | ${result.seconds.toFixed(1)} |`,
    );
  }
}

async function main() {
  if (args.has("memory-child")) {
    await memoryChild(Number(args.get("memory-child")));
    return;
  }
  const info = await initCompute({ backend: "wasm", threads: THREADS });
  if (info.wasm?.threadsFallback !== undefined) {
    console.error(info.wasm.threadsFallback);
  }
  if (args.has("share-identity")) {
    shareIdentity();
  }
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `@pythia/model throughput: tfjs ${info.tfjsVersion}, backend ${info.tfjsBackend} (simd ${info.wasm?.simd}, threads ${info.wasm?.threads}), ` +
      `Node ${process.version}, ${os.cpus().length} CPUs (${cpu}), ${gib(os.totalmem())} RAM, runs ${RUNS} after 1 warm-up, load ${load1()}` +
      (args.has("share-identity") ? ", Identity shares buffers (experimental)" : ""),
  );
  if (!args.has("profile-only")) {
    await throughput();
  }
  if (!args.has("skip-profile")) {
    await profile();
  }
  if (!args.has("skip-memory") && !args.has("profile-only")) {
    memory();
  }
  if (failures > 0) {
    console.error(`${failures} check(s) failed`);
    process.exit(1);
  }
}

await main();
