import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deprecatedOption, integerArgument, runCli, UsageError } from "./cli.js";

afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

function program(seen: Array<Record<string, unknown>>, notices: string[]): Command {
  const command = new Command("demo")
    .option("--output <dir>", "where to write")
    .option("--workers <n>", "parallel jobs", integerArgument, 1)
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .action((options: Record<string, unknown>) => {
      seen.push(options);
    });
  deprecatedOption(command, "--out <dir>", "--output", (line) => notices.push(line));
  deprecatedOption(command, "--concurrency <n>", "--workers", (line) => notices.push(line));
  return command;
}

describe("deprecatedOption", () => {
  it("maps the old spelling to the new option with a notice, and hides it from --help", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const notices: string[] = [];
    await runCli({
      name: "demo",
      program: program(seen, notices),
      argv: ["node", "demo", "--out", "a", "--concurrency", "3"],
    });
    expect(seen[0]).toMatchObject({ output: "a", workers: 3 });
    expect(notices).toEqual([
      "warning: --out is deprecated and will be removed in the next minor version; use --output\n",
      "warning: --concurrency is deprecated and will be removed in the next minor version; use --workers\n",
    ]);
    expect(program([], []).helpInformation()).not.toMatch(/--out |--concurrency/);
  });

  it("the new spelling prints nothing; the old one's value is parsed like the new one's", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const notices: string[] = [];
    await runCli({ name: "demo", program: program(seen, notices), argv: ["node", "demo", "--output", "b"] });
    expect(seen[0]).toMatchObject({ output: "b", workers: 1 });
    expect(notices).toEqual([]);
    await runCli({
      name: "demo",
      program: program(seen, notices),
      argv: ["node", "demo", "--concurrency", "x"],
    });
    expect(process.exitCode).toBe(2);
  });
});

describe("UsageError", () => {
  it("prints one error line and exits 2", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const command = new Command("demo").action(() => {
      throw new UsageError("no input: give --checkpoint DIR or --preset NAME");
    });
    await runCli({ name: "demo", program: command, argv: ["node", "demo"] });
    expect(stderr).toHaveBeenLastCalledWith("error: no input: give --checkpoint DIR or --preset NAME\n");
    expect(process.exitCode).toBe(2);
  });
});
