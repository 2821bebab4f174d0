export * from "./resolve-bin.js";
export * from "./subcommands.js";
