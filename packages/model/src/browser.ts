/**
 * `@pythia/model/browser`: the model without file I/O, for bundlers targeting the browser (no Node
 * built-ins are imported). Compute on WebGPU (`navigator.gpu`) or wasm; weights from `initialize` or
 * from tensors you fetched (`GPTNeoXModel.fromTensors`).
 */
export * from "./model-errors.js";
export * from "./compute.js";
export * from "./config.js";
export * from "./config-format.js";
export * from "./parameter-names.js";
export * from "./gpt-neox.js";
export * from "./init.js";
export * from "./random-normal.js";
export * from "./model.js";
export * from "./generate.js";
