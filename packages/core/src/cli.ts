/**
 * What every `pythia-*` command line shares: commander argument parsers that turn bad values into
 * usage errors, and `runCli`, which runs a program with the suite's exit conventions — usage errors
 * exit 2 (commander has printed them; a `UsageError` prints one line), user mistakes (any `PythiaError`,
 * or what `isUserError` accepts) print one line and exit 1, anything else prints its stack and exits 1.
 * Every error line starts with `error: ` (docs/cli-conventions.md).
 * A subpath (`@pythia/core/cli`) so that the main entry does not load commander.
 */
import { type Command, CommanderError, InvalidArgumentError } from "commander";
import { PythiaError } from "./pythia-error.js";

/** Commander parser for a non-negative integer. */
export function integerArgument(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  }
  return parsed;
}

/** Commander parser for a finite number. */
export function numberArgument(value: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) {
    throw new InvalidArgumentError(`expected a number, got "${value}"`);
  }
  return parsed;
}

/**
 * Commander parser from a validator: `check(value)` throws (with a message naming the problem) for a
 * bad value, which becomes a usage error (exit 2); otherwise the value is kept as given.
 */
export function checkedArgument(check: (value: string) => unknown): (value: string) => string {
  return (value) => {
    try {
      check(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
    return value;
  };
}

/** Commander parser for an integer of at least 1 (0 is a usage error). */
export function positiveIntegerArgument(value: string): number {
  const parsed = integerArgument(value);
  if (parsed === 0) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return parsed;
}

/** Commander parser for a number above 0. */
export function positiveNumberArgument(value: string): number {
  const parsed = numberArgument(value);
  if (parsed <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return parsed;
}

/** Commander parser for a comma-separated list of non-negative integers (`1000,2000`). */
export function integerListArgument(value: string): number[] {
  return value.split(",").map((part) => integerArgument(part));
}

/** Runs `program` on `argv` and sets `process.exitCode` by the suite's conventions (see the file). */
export async function runCli(params: {
  /** The command's name (for messages that need it). */
  name: string;
  program: Command;
  /** @default process.argv */
  argv?: readonly string[];
  /** Errors besides `PythiaError`s that are user mistakes (e.g. the tokenizer's, an app's own). */
  isUserError?: (error: unknown) => boolean;
}): Promise<void> {
  const trap = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(trap);
  };
  trap(params.program);
  try {
    await params.program.parseAsync([...(params.argv ?? process.argv)]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2; // --help and --version exit 0
    } else if (PythiaError.isInstance(error) || params.isUserError?.(error) === true) {
      const exitCode = (error as { exitCode?: unknown }).exitCode;
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exitCode = typeof exitCode === "number" && exitCode > 0 ? exitCode : 1;
    } else {
      process.stderr.write(
        `error: unexpected error in ${params.name}: ${(error as Error).stack ?? String(error)}\n`,
      );
      process.exitCode = 1;
    }
  }
}

export * from "./usage-error.js";
export * from "./deprecated-option.js";
