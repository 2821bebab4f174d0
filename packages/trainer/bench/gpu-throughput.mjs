// Forward and training throughput of Pythia shapes on a GPU backend (WebGPU by default), with the same
// shapes measured in PyTorch (eager, fp32, CUDA) in the same run when `--pytorch` is given and python3
// has torch + transformers. The same command runs on a laptop, a GPU server or (slowly) SwiftShader.
//
//   cd packages/trainer && npx tsup && node bench/gpu-throughput.mjs [options]
//
// Options:
//   --backend=webgpu|wasm|tfjs-node-gpu   (default webgpu; wasm gives the CPU column for a ratio)
//   --only=14m,70m,160m,410m              Pythia presets (default all four)
//   --batch=8 --seq=2048                  shape of a step (default 8 × 2048, the micro-batch Pythia ran per GPU)
//   --runs=5                              timed steps after one warm-up (median reported)
//   --skip-train                          forward only (e.g. --only=1b,1.4b: models past the wasm heap's 4 GiB)
//   --pytorch                             also run bench/pytorch_reference.py (CUDA) on the same shapes
//   --json=FILE                           write the rows as JSON
//   --allow-software                      measure on a software adapter (SwiftShader) too; without it
//                                         the script says so and exits, as SwiftShader runs at ~1 GFLOP/s
//
// Method. Random init (seed 1234), random ids. forward: `model.forward(ids)`, synchronised by reading
// one logit back. training: loss + gradients of every parameter, gradient clipping (norm 1.0) and the
// AdamW update exactly as the trainer does them (`clipCoefficient` + `AdamW.apply`: on WebGPU the fused
// in-place kernel), synchronised by reading the loss. FLOPs: 2·N·tokens forward and 6·N·tokens training
// (N = all parameters multiplied in: non-embedding + the unembedding), plus attention 2·L·T·C (causal
// half of 4·L·T·C) per token forward and three times that training. Peak GPU memory: tfjs' WebGPU buffer
// pool after the runs (it never frees, so it is the peak), `tf.memory().numBytesAllocatedInGPU`.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { GPTNeoXModel, initCompute, parameterCount, pythiaPreset } from "@pythia/model";
import { AdamW, clipCoefficient } from "../dist/index.js";

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key, value ?? "true"];
  }),
);
const backend = args.get("backend") ?? "webgpu";
const only = (args.get("only") ?? "14m,70m,160m,410m")
  .split(",")
  .map((n) => `pythia-${n.replace(/^pythia-/, "")}`);
const batch = Number(args.get("batch") ?? 8);
const seq = Number(args.get("seq") ?? 2048);
const runs = Number(args.get("runs") ?? 5);

const info = await initCompute({ backend });
console.log(
  `backend ${info.backend}${info.webgpu ? ` on ${info.webgpu.vendor} ${info.webgpu.architecture} (${info.webgpu.description})${info.webgpu.software ? " [software]" : ""}` : ""}`,
);

if (info.webgpu?.software && !args.has("allow-software")) {
  console.log(
    "only a software WebGPU adapter here: nothing to measure (pass --allow-software to time it anyway)",
  );
  process.exit(0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function randomIds(vocab, seed) {
  let a = seed >>> 0;
  const data = new Int32Array(batch * seq);
  for (let i = 0; i < data.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    data[i] = a % vocab;
  }
  return data;
}

async function time(fn) {
  await fn(); // warm-up: shader compilation, buffer pool growth
  const seconds = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    seconds.push((performance.now() - start) / 1000);
  }
  return median(seconds);
}

const rows = [];
for (const name of only) {
  const config = pythiaPreset(name);
  const model = GPTNeoXModel.initialize({ config, seed: 1234 });
  const variables = model.params;
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  const idsData = randomIds(config.vocabSize, 1234);
  const tokens = batch * seq;
  const counts = parameterCount(config);
  const multiplied = counts.nonEmbedding + config.vocabSize * config.hiddenSize; // the unembedding
  const attention = 2 * config.numLayers * seq * config.hiddenSize;
  const forwardSeconds = await time(async () => {
    const ids = tf.tensor2d(idsData, [batch, seq], "int32");
    const { logits } = model.forward(ids);
    const first = tf.slice(logits, [0, 0, 0], [1, 1, 1]);
    await first.data();
    tf.dispose([ids, logits, first]);
  });
  const trainSeconds = args.has("skip-train")
    ? Number.NaN
    : await time(async () => {
        const ids = tf.tensor2d(idsData, [batch, seq], "int32");
        const { value, grads } = tf.variableGrads(() => model.loss(ids).loss, Object.values(variables));
        const byName = Object.fromEntries(Object.entries(variables).map(([n, v]) => [n, grads[v.name]]));
        const { norm, coef } = clipCoefficient(byName, 1.0);
        optimizer.apply(variables, byName, 1e-4, () => true, coef);
        await value.data();
        tf.dispose([ids, value, norm, coef, ...Object.values(grads)]);
      });
  const memory = tf.memory();
  const row = {
    model: name,
    backend: info.backend,
    adapter: info.webgpu?.description ?? null,
    batch,
    seq,
    forwardTokensPerSecond: tokens / forwardSeconds,
    trainTokensPerSecond: tokens / trainSeconds,
    forwardGflops: ((2 * multiplied + attention) * tokens) / forwardSeconds / 1e9,
    trainGflops: ((6 * multiplied + 3 * attention) * tokens) / trainSeconds / 1e9,
    peakGpuBytes: memory.numBytesAllocatedInGPU ?? null,
  };
  rows.push(row);
  console.log(
    `${name} B=${batch} T=${seq}: forward ${row.forwardTokensPerSecond.toFixed(0)} tok/s (${row.forwardGflops.toFixed(1)} GFLOP/s), ` +
      `training ${row.trainTokensPerSecond.toFixed(0)} tok/s (${row.trainGflops.toFixed(1)} GFLOP/s)` +
      (row.peakGpuBytes === null ? "" : `, GPU buffers ${(row.peakGpuBytes / 2 ** 30).toFixed(2)} GiB`),
  );
  optimizer.dispose();
  model.dispose();
}

if (args.has("pytorch")) {
  const script = fileURLToPath(new URL("./pytorch_reference.py", import.meta.url));
  const output = execFileSync(
    "python3",
    [script, `--only=${only.join(",")}`, `--batch=${batch}`, `--seq=${seq}`, `--runs=${runs}`],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const torchRows = JSON.parse(output.trim().split("\n").at(-1));
  console.log("\nratio to PyTorch (eager fp32, same shapes, same run):");
  for (const row of rows) {
    const torch = torchRows.find((r) => r.model === row.model);
    if (torch !== undefined) {
      row.pytorch = torch;
      console.log(
        `${row.model}: forward ${(row.forwardTokensPerSecond / torch.forwardTokensPerSecond).toFixed(2)}×, ` +
          `training ${(row.trainTokensPerSecond / torch.trainTokensPerSecond).toFixed(2)}× (PyTorch ${torch.device}: ` +
          `${torch.forwardTokensPerSecond.toFixed(0)} / ${torch.trainTokensPerSecond.toFixed(0)} tok/s)`,
      );
    }
  }
}
if (args.has("json")) {
  writeFileSync(args.get("json"), `${JSON.stringify(rows, null, 2)}\n`);
}
