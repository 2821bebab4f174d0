export * from "./pythia-error.js";
export * from "./drain.js";
export * from "./files.js";
export * from "./rename-durable.js";
export * from "./checkpoint-schedule.js";
export * from "./python-random.js";
export * from "./worker-pool.js";
