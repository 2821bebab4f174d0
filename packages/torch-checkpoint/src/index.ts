export * from "./torch-checkpoint-error.js";
export * from "./byte-source.js";
export * from "./zip-reader.js";
export * from "./pickle-machine.js";
export * from "./torch-tensor.js";
export * from "./torch-globals.js";
export * from "./torch-checkpoint.js";
export * from "./torch-checkpoint-folder.js";
