export { ModelError, SafetensorsError, type ModelErrorCode } from "./model-errors.js";
// compute.ts and gpt-neox.ts are being rewritten for WebGPU; their exports stay whole until then.
export * from "./compute.js";
export {
  GPTNeoXConfigSchema,
  INIT_METHODS,
  headSize,
  parameterCount,
  parseConfig,
  PYTHIA_PRESETS,
  pythiaPreset,
  rotaryDims,
  type GPTNeoXConfig,
  type GPTNeoXConfigInput,
} from "./config.js";
export type { HfGPTNeoXConfigFormat, NeoxYamlFormat } from "./config-format.js";
export {
  fromHfConfig,
  fromNeoxYaml,
  toHfConfig,
  toNeoxYaml,
  type FromNeoxYamlParams,
} from "./config-convert.js";
export { parameterSpecs, type ParameterSpec } from "./parameter-names.js";
export * from "./gpt-neox.js";
export { GPTNeoXModel, type HostTensor } from "./model.js";
export * from "./safetensors.js"; // its public names only (the parts are in safetensors-*.ts)
export {
  loadCheckpoint,
  saveCheckpoint,
  writeTokenizerFiles,
  type LoadCheckpointParams,
  type SaveCheckpointParams,
} from "./checkpoint.js";
export {
  generate,
  generateIter,
  type GenerateParams,
  type GeneratedToken,
  type GenerateResult,
} from "./generate.js";
export { findVulkanIcdForTests, webgpuSuite } from "./swiftshader.js";
export * from "./weight-files.js";
export * from "./neox-checkpoint-layout.js";
export * from "./import-neox.js";
export * from "./export-neox.js";
export {
  checkWeightHeaders,
  isParameterToRead,
  type CheckWeightHeadersParams,
} from "./check-weight-headers.js";
export { manifestFileCheck } from "./manifest-file-check.js";
