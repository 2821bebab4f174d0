/** The device backends' kernels (tfjs-node-gpu; webgpu builds on them). */
export { linear } from "./linear.js";
export { scaledDotProductAttention, selfAttention } from "./attention.js";
export { crossEntropyRows } from "./cross-entropy.js";
