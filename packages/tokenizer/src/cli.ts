#!/usr/bin/env node
/**
 * `pythia-tokenize`: encode, decode and count tokens with the Pile BPE (or any byte-level BPE
 * `tokenizer.json`) from the shell. JSONL in, JSONL out; errors name the line and exit non-zero.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { TokenizerError } from "./errors.js";
import { loadPileTokenizer } from "./load-pile-tokenizer.js";
import { loadTokenizerFile, readJsonl, readJsonlTexts, TokenizerInputError } from "./node.js";
import type { Tokenizer } from "./tokenizer.js";

const USAGE = `Usage: pythia-tokenize <command> [options]

Commands:
  encode            stdin JSONL {"text": ...}  ->  stdout JSONL {"ids": [...]} (no special tokens added)
  decode            stdin JSONL {"ids": [...]} ->  stdout JSONL {"text": ...}
  count FILE...     print "<tokens>\\t<file>" per file (.jsonl: sum over "text" fields; otherwise the whole file)
  train             train a byte-level BPE on text files, HF-exact (pythia-tokenize train --help)

Options:
  --tokenizer PATH        a Hugging Face tokenizer.json (default: the bundled GPT-NeoX-20B / Pythia tokenizer)
  --skip-special-tokens   decode: drop <|endoftext|> and <|padding|>
  --jsonl-key NAME        encode/count: the JSONL field holding the text (default: text)
  -h, --help              show this help
  -V, --version           show the version

Example:
  echo '{"text": "Hello, world!"}' | pythia-tokenize encode     # {"ids":[12092,13,1533,2]}
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "train") {
    const { runTrainCommand } = await import("./train-command.js");
    process.exitCode = await runTrainCommand(argv.slice(1));
    return;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tokenizer: { type: "string" },
      "skip-special-tokens": { type: "boolean", default: false },
      "jsonl-key": { type: "string", default: "text" },
      // --field: the old spelling, kept hidden for one minor version.
      field: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "V", default: false },
      // -v: the old spelling, kept hidden for one minor version.
      "old-version": { type: "boolean", short: "v", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.field !== undefined) {
    process.stderr.write(
      "warning: --field is deprecated and will be removed in the next minor version; use --jsonl-key\n",
    );
  }
  const jsonlKey = values.field ?? values["jsonl-key"];
  if (values["old-version"]) {
    process.stderr.write("warning: -v is deprecated and will be removed in the next minor version; use -V\n");
  }
  if (values.version || values["old-version"]) {
    const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
    process.stdout.write(`${manifest.version}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  if (command === undefined) {
    throw new UsageError("missing command");
  }
  if (!["encode", "decode", "count"].includes(command)) {
    throw new UsageError(`unknown command "${command}"`);
  }
  const tokenizer = values.tokenizer ? await loadTokenizerFile(values.tokenizer) : await loadPileTokenizer();
  switch (command) {
    case "encode":
      expectNoArguments(command, rest);
      for await (const text of readJsonlTexts(process.stdin, jsonlKey)) {
        await writeLine(JSON.stringify({ ids: tokenizer.encode(text) }));
      }
      return;
    case "decode":
      expectNoArguments(command, rest);
      for await (const { line, value } of readJsonl(process.stdin)) {
        const ids = readIds(value, line);
        await writeLine(
          JSON.stringify({
            text: tokenizer.decode(ids, { skipSpecialTokens: values["skip-special-tokens"] }),
          }),
        );
      }
      return;
    default:
      await count(tokenizer, rest, jsonlKey);
  }
}

function expectNoArguments(command: string, rest: string[]): void {
  if (rest.length > 0) {
    throw new UsageError(`${command} reads stdin and takes no file arguments (got ${rest.join(" ")})`);
  }
}

function readIds(value: unknown, line: number): number[] {
  const ids = typeof value === "object" && value !== null ? (value as { ids?: unknown }).ids : undefined;
  if (!Array.isArray(ids)) {
    throw new TokenizerInputError(
      `expected an object with an "ids" array, got ${JSON.stringify(value).slice(0, 80)}`,
      line,
    );
  }
  ids.forEach((id, index) => {
    if (!Number.isInteger(id) || id < 0) {
      throw new TokenizerInputError(
        `ids[${index}] is ${JSON.stringify(id)}; ids must be non-negative integers`,
        line,
      );
    }
  });
  return ids as number[];
}

async function count(tokenizer: Tokenizer, files: string[], field: string): Promise<void> {
  if (files.length === 0) {
    throw new UsageError("count needs at least one FILE");
  }
  let total = 0;
  for (const file of files) {
    let tokens = 0;
    try {
      if (/\.jsonl$/i.test(file)) {
        for await (const text of readJsonlTexts(createReadStream(file), field)) {
          tokens += tokenizer.encode(text).length;
        }
      } else {
        tokens = tokenizer.encode(await readFile(file, "utf8")).length;
      }
    } catch (error) {
      if (TokenizerError.isInstance(error)) {
        throw new TokenizerInputError(`${file}: ${error.message}`);
      }
      const code = (error as NodeJS.ErrnoException).code;
      throw new TokenizerInputError(`cannot read ${file} (${code ?? String(error)})`);
    }
    total += tokens;
    await writeLine(`${tokens}\t${file}`);
  }
  if (files.length > 1) {
    await writeLine(`${total}\ttotal`);
  }
}

/** Writes one line to stdout, waiting for the pipe to drain (constant memory on huge inputs). */
function writeLine(line: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(line + "\n")) {
      resolve();
    } else {
      process.stdout.once("drain", resolve);
    }
  });
}

process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  // `pythia-tokenize encode | head` closes the pipe early: that is not a failure.
  if (error.code === "EPIPE") {
    process.exit(0);
  }
  throw error;
});

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    process.stderr.write(`error: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (TokenizerError.isInstance(error)) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(
      `error: unexpected error in pythia-tokenize: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exitCode = 1;
  }
});
