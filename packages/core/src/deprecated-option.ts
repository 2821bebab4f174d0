import { type Command, Option } from "commander";

/**
 * Keeps an old option spelling working for one minor version: adds `oldFlags` (e.g. `"--out <dir>"`)
 * to `command`, hidden from `--help`; when it is given, its value is copied to the option named
 * `replacement` (e.g. `"--output"`) and a one-line notice goes to stderr. Returns `command`.
 *
 * @example
 * deprecatedOption(program.option("--output <dir>", "run directory"), "--out <dir>", "--output");
 */
export function deprecatedOption(
  command: Command,
  oldFlags: string,
  replacement: string,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Command {
  const old = new Option(oldFlags).hideHelp();
  const target = command.options.find((option) => option.long === replacement);
  if (target === undefined) {
    throw new Error(`deprecatedOption: ${command.name()} has no option ${replacement}`);
  }
  if (target.parseArg !== undefined) {
    old.argParser(target.parseArg);
  }
  command.addOption(old);
  // On the option event (during parsing), so that a required replacement counts as given.
  command.on(`option:${old.name()}`, (value: string) => {
    write(
      `warning: ${old.long} is deprecated and will be removed in the next minor version; use ${replacement}\n`,
    );
    const previous = command.getOptionValue(target.attributeName()) as unknown;
    const parsed = target.parseArg === undefined ? value : target.parseArg(value, previous);
    command.setOptionValueWithSource(target.attributeName(), parsed, "cli");
  });
  return command;
}
