export * from "./lr-schedule.js";
export { checkpointSteps, type CheckpointScheduleParams } from "@pythia/core";
export * from "./adamw.js";
export * from "./train-config.js";
export * from "./training-errors.js";
export * from "./training-checkpoint.js";
export * from "./batch-source.js";
export * from "./trainer.js";
