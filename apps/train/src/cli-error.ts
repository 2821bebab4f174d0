/** A user mistake the CLI reports as one line: exit code 1 for bad inputs, 2 for bad usage. */
export class CliError extends Error {
  readonly exitCode: 1 | 2;

  constructor(exitCode: 1 | 2, message: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}
