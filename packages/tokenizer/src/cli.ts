#!/usr/bin/env node
/**
 * `pythia-tokenize`: encode, decode and count tokens with the Pile BPE (or any byte-level BPE
 * `tokenizer.json`) from the shell. JSONL in, JSONL out; errors name the line and exit non-zero.
 */
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { isParseArgsError, packageVersion, usageErrorMessage } from "./cli-usage.js";
import { TokenizerError } from "./errors.js";
import { loadPileTokenizer } from "./load-pile-tokenizer.js";
import {
  checkUtf8,
  invalidUtf8Warning,
  loadTokenizerFile,
  readJsonl,
  readJsonlTexts,
  TokenizerInputError,
  type InvalidUtf8,
  type Utf8InputOptions,
} from "./node.js";
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
  --strict                refuse input that is not UTF-8 (default: replace by U+FFFD and warn)
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
      strict: { type: "boolean", default: false },
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
    process.stdout.write(`${await packageVersion()}\n`);
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
  const input = (file: string): Utf8InputOptions => ({ file, strict: values.strict, onInvalidUtf8: warn });
  switch (command) {
    case "encode":
      expectNoArguments(command, rest);
      for await (const text of readJsonlTexts(process.stdin, jsonlKey, input("<stdin>"))) {
        await writeLine(JSON.stringify({ ids: tokenizer.encode(text) }));
      }
      return;
    case "decode":
      expectNoArguments(command, rest);
      for await (const { line, value } of readJsonl(process.stdin, input("<stdin>"))) {
        const ids = readIds(value, line);
        await writeLine(
          JSON.stringify({
            text: tokenizer.decode(ids, { skipSpecialTokens: values["skip-special-tokens"] }),
          }),
        );
      }
      return;
    default:
      await count(tokenizer, rest, jsonlKey, input);
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

async function count(
  tokenizer: Tokenizer,
  files: string[],
  field: string,
  input: (file: string) => Utf8InputOptions,
): Promise<void> {
  if (files.length === 0) {
    throw new UsageError("count needs at least one FILE");
  }
  let total = 0;
  for (const file of files) {
    let tokens = 0;
    try {
      if (/\.jsonl$/i.test(file)) {
        for await (const text of readJsonlTexts(createReadStream(file), field, input(file))) {
          tokens += tokenizer.encode(text).length;
        }
      } else {
        tokens = tokenizer.encode(await readText(file, input(file))).length;
      }
    } catch (error) {
      if (TokenizerError.isInstance(error)) {
        throw error.message.startsWith(`${file}: `)
          ? error
          : new TokenizerInputError(`${file}: ${error.message}`);
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

/** A plain-text file as one document, read like `pythia-data preprocess` does (BOM dropped, ADR 0018). */
async function readText(file: string, options: Utf8InputOptions): Promise<string> {
  const decoder = new TextDecoder("utf-8");
  let text = "";
  for await (const chunk of checkUtf8(createReadStream(file), options)) {
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** One warning line on stderr for input that was not UTF-8 (the CLI prints; the library reports). */
function warn(finding: InvalidUtf8): void {
  process.stderr.write(`${invalidUtf8Warning(finding)}\n`);
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
  if (error instanceof UsageError || isParseArgsError(error)) {
    process.stderr.write(`error: ${usageErrorMessage(error)}\n\n${USAGE}`);
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
