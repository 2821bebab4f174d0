export * from "./lr-schedule.js";
export * from "./checkpoint-schedule.js";
export * from "./adamw.js";
