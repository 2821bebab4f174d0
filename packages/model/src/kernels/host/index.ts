/** The host-memory backends' kernels (wasm, cpu, tfjs-node). */
export { linear } from "./linear.js";
export { scaledDotProductAttention, selfAttention } from "./attention.js";
export { crossEntropyRows } from "./cross-entropy.js";
