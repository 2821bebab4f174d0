// Builds GPT-NeoX index maps at Pythia scale and reports time and peak memory against the issue's
// targets (< 5 min, < 8 GB on 2 cores), plus a reference measured in the same script: numpy's
// RandomState shuffles of arrays of the same lengths (what GPT-NeoX runs for doc_idx and shuffle_idx;
// its sample_idx loop is C++), when python3 with numpy is available.
//
// Run from packages/dataloader after `npx tsup`:
//   node bench/index-maps-scale.mjs            # 210M documents, numSamples 147164160 (Pythia)
//   node bench/index-maps-scale.mjs 20000000   # a quicker 20M-document run
// Document sizes are synthetic: lognormal (sigma 1.2) with mean 1500 tokens, seeded, ~315B tokens at 210M.
import { spawnSync } from "node:child_process";
import { buildIndexMaps, RandomState } from "../dist/index.js";

const documents = Number(process.argv[2] ?? 210_000_000);
const pythia = documents === 210_000_000;
const rss = () => process.resourceUsage().maxRSS / 1024 / 1024;

const random = new RandomState(7);
const sizes = new Int32Array(documents);
const sigma = 1.2;
const mu = Math.log(1500) - (sigma * sigma) / 2;
let tokens = 0;
for (let i = 0; i < documents; i++) {
  const u1 = 1 - random.randomSample();
  const u2 = random.randomSample();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  sizes[i] = Math.max(1, Math.min(1_000_000, Math.round(Math.exp(mu + sigma * z))));
  tokens += sizes[i];
}
const numSamples = pythia ? 147_164_160 : Math.floor((0.9 * tokens) / 2048);
console.log(
  `documents ${documents}, tokens ${tokens} (mean ${(tokens / documents).toFixed(0)}), numSamples ${numSamples}, seq 2048, seed 1234`,
);

const started = performance.now();
const maps = buildIndexMaps({ sizes, numSamples, seqLength: 2048, seed: 1234 });
const seconds = (performance.now() - started) / 1000;
const peak = rss();
console.log(
  `buildIndexMaps: ${seconds.toFixed(1)} s, peak RSS ${peak.toFixed(2)} GiB (sizes array included), ${maps.numEpochs} epoch(s), doc_idx ${maps.docIdx.length}, S ${maps.shuffleIdx.length}`,
);
console.log(
  `targets: time < 300 s: ${seconds < 300 ? "met" : "MISSED"}; memory < 8 GiB: ${peak < 8 ? "met" : "MISSED"}`,
);

const python = spawnSync(
  "python3",
  [
    "-c",
    `import time, numpy as np
rng = np.random.RandomState(1234)
t = time.perf_counter()
d = np.arange(${maps.docIdx.length}, dtype=np.int32); rng.shuffle(d)
s = np.arange(${maps.shuffleIdx.length}, dtype=np.uint32); rng.shuffle(s)
print(time.perf_counter() - t)`,
  ],
  { encoding: "utf8" },
);
if (python.status === 0) {
  const reference = Number(python.stdout.trim());
  console.log(
    `reference: numpy RandomState shuffles of doc_idx and shuffle_idx alone: ${reference.toFixed(1)} s`,
  );
  console.log(`ratio: our whole build / numpy's two shuffles = ${(seconds / reference).toFixed(2)}x`);
} else {
  console.log("reference: python3 with numpy not available, no ratio");
}
