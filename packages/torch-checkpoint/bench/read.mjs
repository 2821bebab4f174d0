// Read throughput of @pythia/torch-checkpoint on a pytorch_model.bin-sized file, against reading the
// same bytes with fs.readFile in the same run (the floor: one sequential read of the whole file).
//
// Run from packages/torch-checkpoint after building: pnpm bench   (= node bench/read.mjs [MB])
//
// Method. A state dict of float32 tensors shaped like a GPT-NeoX block stack (hidden 1024, MLP 4096,
// 50304-row embeddings; layers until the file reaches MB megabytes, default 512) is written once with
// writeTorchCheckpoint into the OS temp folder. Then, alternating, RUNS times each:
//   reference  fs.readFile of the whole file (page cache warm after the first run);
//   open       openTorchCheckpoint: zip directory + pickle, no tensor data;
//   read all   openTorchCheckpoint + checkpoint.read of every tensor (positional reads per tensor);
// Medians are printed with the ratio read-all / reference. Peak RSS is printed to show no whole-file Buffer.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  PickleOrderedDict,
  TorchTensorToSave,
  openTorchCheckpoint,
  writeTorchCheckpoint,
} from "../dist/index.js";

const targetMb = Number(process.argv[2] ?? 512);
const RUNS = 5;
const hidden = 1024;
const state = new PickleOrderedDict();
const fill = (length, seed) =>
  Float32Array.from({ length }, (_, i) => ((i * 2654435761 + seed) % 1000) / 1000 - 0.5);
state.set("gpt_neox.embed_in.weight", new TorchTensorToSave("F32", [50304, hidden], fill(50304 * hidden, 1)));
let bytes = 50304 * hidden * 4;
for (let layer = 0; bytes < targetMb * 1e6; layer++) {
  const prefix = `gpt_neox.layers.${layer}`;
  for (const [name, shape] of [
    ["attention.query_key_value.weight", [3 * hidden, hidden]],
    ["attention.dense.weight", [hidden, hidden]],
    ["mlp.dense_h_to_4h.weight", [4 * hidden, hidden]],
    ["mlp.dense_4h_to_h.weight", [hidden, 4 * hidden]],
    ["input_layernorm.weight", [hidden]],
  ]) {
    const numel = shape.reduce((a, b) => a * b, 1);
    state.set(`${prefix}.${name}`, new TorchTensorToSave("F32", shape, fill(numel, layer)));
    bytes += numel * 4;
  }
}
const dir = mkdtempSync(join(tmpdir(), "torch-bench-"));
const file = join(dir, "pytorch_model.bin");
await writeTorchCheckpoint(file, state);
state.clear();
const size = statSync(file).size;
console.log(
  `file ${(size / 1e6).toFixed(0)} MB, ${RUNS} runs each, medians (load average ${(await import("node:os")).loadavg()[0].toFixed(2)})`,
);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const time = async (fn) => {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
};
const results = { reference: [], open: [], readAll: [] };
let peakRss = 0;
for (let run = 0; run < RUNS; run++) {
  results.reference.push(await time(() => readFile(file)));
  results.open.push(await time(async () => (await openTorchCheckpoint(file)).close()));
  results.readAll.push(
    await time(async () => {
      const checkpoint = await openTorchCheckpoint(file);
      for (const tensor of checkpoint.tensors().values()) {
        await checkpoint.read(tensor);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
      await checkpoint.close();
    }),
  );
}
const mbps = (seconds) => (size / 1e6 / seconds).toFixed(0);
const ref = median(results.reference);
const all = median(results.readAll);
console.log(`reference fs.readFile   ${ref.toFixed(3)} s  ${mbps(ref)} MB/s`);
console.log(`openTorchCheckpoint     ${median(results.open).toFixed(4)} s`);
console.log(
  `open + read every tensor ${all.toFixed(3)} s  ${mbps(all)} MB/s  ratio ${(all / ref).toFixed(2)}× the reference`,
);
console.log(
  `peak RSS while reading tensor by tensor ${(peakRss / 1e6).toFixed(0)} MB (file ${(size / 1e6).toFixed(0)} MB)`,
);
rmSync(dir, { recursive: true, force: true });
