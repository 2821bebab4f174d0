import { Command, InvalidArgumentError } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  checkedArgument,
  integerArgument,
  integerListArgument,
  numberArgument,
  positiveIntegerArgument,
  positiveNumberArgument,
  runCli,
} from "./cli.js";
import { PythiaError } from "./pythia-error.js";

afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

const program = (action: (options: { n?: number; ns?: number[]; x?: number }) => void) =>
  new Command("demo")
    .option("--n <n>", "", integerArgument)
    .option("--ns <list>", "", integerListArgument)
    .option("--x <x>", "", numberArgument)
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .action(action);

describe("runCli", () => {
  it("parses arguments, and a bad value is a usage error (exit 2)", async () => {
    let seen: unknown;
    await runCli({
      name: "demo",
      program: program((o) => (seen = o)),
      argv: ["node", "demo", "--n", "7", "--ns", "1,20", "--x", "-0.5"],
    });
    expect(seen).toEqual({ n: 7, ns: [1, 20], x: -0.5 });
    expect(process.exitCode).toBeUndefined();
    await runCli({ name: "demo", program: program(() => {}), argv: ["node", "demo", "--n", "1.5"] });
    expect(process.exitCode).toBe(2);
  });

  it("prints a user mistake in one line (exit 1, or the error's own code) and anything else with its stack", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    await runCli({
      name: "demo",
      program: program(() => {
        throw new PythiaError("INPUT", "bad file x.json: field y; fix z");
      }),
      argv: ["node", "demo"],
    });
    expect(stderr).toHaveBeenLastCalledWith("error: bad file x.json: field y; fix z\n");
    expect(process.exitCode).toBe(1);
    class AppError extends Error {
      exitCode = 3;
    }
    await runCli({
      name: "demo",
      program: program(() => {
        throw new AppError("no such run");
      }),
      argv: ["node", "demo"],
      isUserError: (e) => e instanceof AppError,
    });
    expect(stderr).toHaveBeenLastCalledWith("error: no such run\n");
    expect(process.exitCode).toBe(3);
    await runCli({
      name: "demo",
      program: program(() => {
        throw new TypeError("oops");
      }),
      argv: ["node", "demo"],
    });
    expect(String(stderr.mock.lastCall?.[0])).toMatch(
      /^error: unexpected error in demo: TypeError: oops\n {4}at /,
    );
    expect(process.exitCode).toBe(1);
  });
});

describe("argument parsers", () => {
  it("positive integers and numbers refuse 0 (and negatives) as usage errors", () => {
    expect(positiveIntegerArgument("3")).toBe(3);
    expect(() => positiveIntegerArgument("0")).toThrow('expected a positive integer, got "0"');
    expect(() => positiveIntegerArgument("-1")).toThrow(InvalidArgumentError);
    expect(positiveNumberArgument("0.5")).toBe(0.5);
    expect(() => positiveNumberArgument("0")).toThrow('expected a positive number, got "0"');
    expect(() => positiveNumberArgument("-2")).toThrow(InvalidArgumentError);
  });

  it("checkedArgument keeps a value its check accepts and turns the check's error into a usage error", () => {
    const even = checkedArgument((value) => {
      if (Number(value) % 2 !== 0) {
        throw new Error(`"${value}" is odd: pass an even number`);
      }
    });
    expect(even("4")).toBe("4");
    expect(() => even("3")).toThrow(new InvalidArgumentError('"3" is odd: pass an even number'));
  });
});
