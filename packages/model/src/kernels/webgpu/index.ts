/** The WebGPU backend's WGSL kernels. */
export { crossEntropyRows } from "./cross-entropy.js";
export { embed } from "./embedding.js";
export { flashSelfAttention } from "./flash-attention.js";
