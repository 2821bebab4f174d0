// Load a GPT-NeoX checkpoint directory and score a sentence: mean loss, perplexity, and each token's log-probability.
// Usage: node examples/score.mjs [CHECKPOINT_DIR] ["text"]
//   CHECKPOINT_DIR: a Hugging Face snapshot of EleutherAI/pythia-* (config.json + model.safetensors), e.g.
//   ~/.cache/huggingface/hub/models--EleutherAI--pythia-70m/snapshots/<sha>, or a directory saved by saveCheckpoint.
import * as tf from "@tensorflow/tfjs-core";
import { initCompute, loadCheckpoint, nextTokenLoss } from "@pythia/model";
import { loadPileTokenizer } from "@pythia/tokenizer";

const [dir, text = "The quick brown fox jumps over the lazy dog."] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: node examples/score.mjs CHECKPOINT_DIR [text]");
  process.exit(2);
}
const { backend } = await initCompute(); // tfjs-node-gpu or tfjs-node when installed, else wasm
const tokenizer = await loadPileTokenizer();
const model = await loadCheckpoint({ dir, trainable: false });

const ids = tokenizer.encode(text);
const { logits } = model.forward([ids]);
const { loss, tokenLosses } = nextTokenLoss(logits, tf.tensor2d([ids], undefined, "int32"));
const mean = (await loss.data())[0];
const perToken = await tokenLosses.data();

console.log(`backend ${backend}, ${ids.length} tokens`);
console.log(`loss ${mean.toFixed(4)} nats/token, perplexity ${Math.exp(mean).toFixed(2)}`);
for (let t = 1; t < ids.length; t++) {
  console.log(
    `${JSON.stringify(tokenizer.decode([ids[t]])).padEnd(12)} log p = ${(-perToken[t - 1]).toFixed(3)}`,
  );
}
tf.dispose([logits, loss, tokenLosses]);
model.dispose();
