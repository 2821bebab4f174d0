// Arithmetic evaluation throughput: one sub-task (50 docs) greedy-until "\n" (16 tokens at most) on
// pythia-14m and pythia-70m shapes (random weights: decoding cost does not depend on the values),
// prompt by prompt vs batched by equal token length (modelGreedyUntil(...).batch), 0- and 16-shot.
// Run: node bench/arithmetic.mjs   (part of pnpm --filter @pythia/analyses bench)
import { GPTNeoXModel, initCompute, pythiaPreset } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer/node";
import { arithmeticRequests, modelGreedyUntil } from "../dist/index.js";

const compute = await initCompute({ backend: "wasm" });
const tokenizer = await loadPileTokenizer();
console.log(`backend ${compute.backend}, ${compute.wasm?.threads ?? 1} thread(s)`);
for (const size of ["14m", "70m"]) {
  const model = GPTNeoXModel.initialize({ config: pythiaPreset(size), seed: 1 });
  const greedyUntil = modelGreedyUntil(model, tokenizer);
  for (const shots of [0, 16]) {
    const contexts = arithmeticRequests({ operation: "multiplication", x1: 37, shots }).map((r) => r.context);
    const lengths = new Set(contexts.map((c) => tokenizer.encode(c).length)).size;
    let t = performance.now();
    const one = [];
    for (const context of contexts) one.push(await greedyUntil(context));
    const sequentialMs = performance.now() - t;
    t = performance.now();
    const batched = await greedyUntil.batch(contexts);
    const batchMs = performance.now() - t;
    const same = JSON.stringify(one) === JSON.stringify(batched);
    console.log(
      `pythia-${size} ${shots}-shot, 50 docs in ${lengths} length groups: one by one ${(sequentialMs / 1000).toFixed(1)} s, batched ${(batchMs / 1000).toFixed(1)} s → ${(sequentialMs / batchMs).toFixed(2)}× (same text: ${same})`,
    );
  }
  model.dispose();
}
