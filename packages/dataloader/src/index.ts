export * from "./errors.js";
export * from "./dtype.js";
export * from "./indexed-dataset.js";
export * from "./indexed-dataset-builder.js";
