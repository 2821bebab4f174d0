#!/usr/bin/env node
/**
 * `pythia <command> [options]`: runs the Pythia.ts command line that `<command>` names
 * (`pythia train` is `pythia-train`, `pythia hub push` is `pythia-hub push`, …) in a child Node
 * process with the same stdio, and exits with its exit code. No domain logic lives here.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolveBin } from "./resolve-bin.js";
import { findSubcommand, SUBCOMMANDS } from "./subcommands.js";

function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((subcommand) => subcommand.name.length));
  return [
    "Usage: pythia [options] <command> [arguments]",
    "",
    "Train, checkpoint, evaluate and analyse GPT-NeoX (Pythia) models. `pythia <command> --help` shows a command's options.",
    "",
    "Options:",
    "  -V, --version  output the version number",
    "  -h, --help     display help for command",
    "",
    "Commands:",
    ...SUBCOMMANDS.map((subcommand) => `  ${subcommand.name.padEnd(width)}  ${subcommand.summary}`),
    "",
  ].join("\n");
}

function main(argv: readonly string[]): void {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    const asked = first === "help" ? rest[0] : undefined;
    if (asked === undefined) {
      process.stdout.write(usage());
      process.exitCode = first === undefined ? 2 : 0;
      return;
    }
    main([asked, "--help"]);
    return;
  }
  if (first === "-V" || first === "--version") {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    process.stdout.write(`${manifest.version}\n`);
    return;
  }
  const subcommand = findSubcommand(first);
  if (subcommand === null) {
    process.stderr.write(
      `error: unknown command '${first}'; the commands are ${SUBCOMMANDS.map((known) => known.name).join(", ")} (see pythia --help)\n`,
    );
    process.exitCode = 2;
    return;
  }
  let bin: string;
  try {
    bin = resolveBin(subcommand);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const child = spawn(process.execPath, [...process.execArgv, bin, ...rest], {
    stdio: "inherit",
  });
  // The child gets Ctrl-C from the terminal itself; the parent only waits for it.
  const ignore = (): void => undefined;
  process.on("SIGINT", ignore);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => {
    process.off("SIGINT", ignore);
    if (signal !== null) {
      process.kill(process.pid, signal);
      return;
    }
    process.exitCode = code ?? 1;
  });
  child.on("error", (error) => {
    process.stderr.write(`error: cannot start ${subcommand.bin}: ${error.message}\n`);
    process.exitCode = 1;
  });
}

main(process.argv.slice(2));
