import { PythiaError } from "./pythia-error.js";

/**
 * A command line used wrongly (a missing input, an unknown preset or task name): `runCli` prints
 * `error: <message>` and exits 2, like commander's own usage errors. Say what is wrong and the fix.
 */
export class UsageError extends PythiaError<"USAGE"> {
  /** The exit code `runCli` uses. */
  readonly exitCode = 2;
  override name = "UsageError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("USAGE", message, options);
  }
}
