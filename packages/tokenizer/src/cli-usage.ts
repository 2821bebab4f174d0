/**
 * What `pythia-tokenize` and `pythia-tokenize train` share on the command line (they use `node:util`
 * `parseArgs`, not commander, to keep the package free of runtime dependencies): usage-error text in
 * commander's words, and the package version for `--version`.
 */
import { readFile } from "node:fs/promises";

/**
 * The message of a usage error, in the words the commander-based commands use: parseArgs's
 * `Unknown option '--x'. To specify a positional argument…` becomes `unknown option '--x'`.
 */
export function usageErrorMessage(error: unknown): string {
  const message = (error as Error).message;
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  if (unknown) {
    return `unknown option '${unknown[1]}'`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/** True for the errors `parseArgs` throws on bad arguments (unknown option, missing value, …). */
export function isParseArgsError(error: unknown): boolean {
  return (error as { code?: unknown })?.code?.toString().startsWith("ERR_PARSE_ARGS") === true;
}

/** The package version (`0.1.0`), for `--version`. */
export async function packageVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}
