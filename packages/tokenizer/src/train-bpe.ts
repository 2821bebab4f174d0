import { availableParallelism } from "node:os";
import { countWords, type CountProgress } from "./count-words.js";
import { TokenizerError } from "./errors.js";
import { learnBpeMerges, type BpeModel, type MergeProgress } from "./learn-bpe-merges.js";
import type { BpeModelFormat, TokenizerFileFormat } from "./tokenizer-format.js";

/** Parameters of `trainBpe`; the defaults are those of HF tokenizers' `BpeTrainer`. */
export interface TrainBpeParams {
  /** Text files; each line, with its `\n`, is one sequence (as HF `train_from_files` reads them). */
  files?: readonly string[];
  /** Sequences given directly; each string is one sequence (counted on the calling thread). */
  texts?: Iterable<string> | AsyncIterable<string>;
  /** Target vocabulary size, special tokens included. @default 30000 */
  vocabSize?: number;
  /** A pair occurring fewer times than this is never merged. @default 0 */
  minFrequency?: number;
  /** Tokens that get the first ids, in this order (e.g. `["<|endoftext|>", "<|padding|>"]`). @default [] */
  specialTokens?: readonly string[];
  /**
   * Characters always in the alphabet, even when the corpus lacks them (only the first character of
   * each string counts). `BYTE_TO_CHAR` gives all 256 byte-level symbols. @default []
   */
  initialAlphabet?: readonly string[];
  /** Keep only this many alphabet characters (the most frequent). @default no limit */
  limitAlphabet?: number;
  /** Worker threads counting words in files (0: on the calling thread). @default the number of CPUs */
  workers?: number;
  /**
   * Called with every progress event. This takes the place of HF's `show_progress`: libraries do not
   * print, and `pythia-tokenize train` draws its progress bar from these events.
   */
  onProgress?: (event: TrainBpeProgress) => void;
  /** Stops training (between file chunks and between batches of merges) when aborted. */
  signal?: AbortSignal;
}

/** Training finished counting words; merging starts. */
export interface WordsCounted {
  type: "words-counted";
  /** Distinct words (GPT-2 split pieces). */
  words: number;
}

/** Progress of `trainBpe`: counting bytes of files, then the word total, then merges. */
export type TrainBpeProgress = CountProgress | WordsCounted | MergeProgress;

/** A trained byte-level BPE: vocabulary, merges and the special tokens, ready to write as `tokenizer.json`. */
export interface TrainedBpe extends BpeModel {
  /** The special tokens, with their ids (the first ones). */
  specialTokens: string[];
  /** Distinct words the merges were learned from. */
  words: number;
}

/**
 * Trains a byte-level BPE tokenizer (the Pile / GPT-NeoX pre-tokenization) on files or texts, giving
 * exactly the vocabulary and merges of Hugging Face tokenizers' `BpeTrainer` with the same settings.
 * An async generator of progress events that returns the trained model; `trainBpe` drains it.
 * @throws TokenizerError (`TOKENIZER_INPUT`) on a bad parameter or a file that is not UTF-8, (`TOKENIZER_FILE`) on an unreadable file.
 */
export async function* trainBpeEvents(params: TrainBpeParams): AsyncGenerator<TrainBpeProgress, TrainedBpe> {
  const vocabSize = params.vocabSize ?? 30000;
  const minFrequency = params.minFrequency ?? 0;
  const specialTokens = [...(params.specialTokens ?? [])];
  requireInteger("vocabSize", vocabSize, 1);
  requireInteger("minFrequency", minFrequency, 0);
  if (params.limitAlphabet !== undefined) {
    requireInteger("limitAlphabet", params.limitAlphabet, 0);
  }
  const workers = params.workers ?? availableParallelism();
  requireInteger("workers", workers, 0);
  if (params.files === undefined && params.texts === undefined) {
    throw new TokenizerError(
      "TOKENIZER_INPUT",
      "trainBpe: pass `files` (paths) or `texts` (strings) to train on",
    );
  }
  specialTokens.forEach((token, index) => {
    if (typeof token !== "string" || token.length === 0) {
      throw new TokenizerError(
        "TOKENIZER_INPUT",
        `trainBpe: specialTokens[${index}] is ${JSON.stringify(token)}; special tokens must be non-empty strings`,
      );
    }
  });

  const counting = countWords({
    files: params.files,
    texts: params.texts,
    workers,
    signal: params.signal,
  });
  let counted: IteratorResult<CountProgress, Map<string, number>>;
  try {
    counted = await counting.next();
    while (counted.done !== true) {
      yield counted.value;
      counted = await counting.next();
    }
  } finally {
    // When the caller stops early (or a callback throws), this stops the workers and closes the file.
    await counting.return(new Map());
  }
  const wordCounts = counted.value;
  yield { type: "words-counted", words: wordCounts.size };

  const learning = learnBpeMerges({
    wordCounts,
    vocabSize,
    minFrequency,
    specialTokens,
    initialAlphabet: params.initialAlphabet ?? [],
    limitAlphabet: params.limitAlphabet,
  });
  let learned = learning.next();
  while (learned.done !== true) {
    params.signal?.throwIfAborted();
    yield learned.value;
    learned = learning.next();
  }
  return { ...learned.value, specialTokens, words: wordCounts.size };
}

/**
 * Trains a byte-level BPE tokenizer, HF-exactly (see `trainBpeEvents`), reporting progress to `onProgress`.
 * @example
 * const model = await trainBpe({ files: ["corpus.txt"], vocabSize: 30000, specialTokens: ["<|endoftext|>"] });
 * await writeFile("tokenizer.json", trainedTokenizerJson(model));
 */
export async function trainBpe(params: TrainBpeParams): Promise<TrainedBpe> {
  const events = trainBpeEvents(params);
  try {
    for (;;) {
      const next = await events.next();
      if (next.done === true) {
        return next.value;
      }
      params.onProgress?.(next.value);
    }
  } finally {
    await events.return(undefined as never);
  }
}

const BYTE_LEVEL = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };

/**
 * The Hugging Face `tokenizer.json` text of a trained model, laid out as tokenizers writes it (compact,
 * vocabulary in id order): no normalizer, ByteLevel pre-tokenizer, post-processor and decoder as in the
 * Pile tokenizer, special tokens as added tokens. Loads with `Tokenizer.fromJSON(JSON.parse(text))`.
 */
export function trainedTokenizerJson(model: TrainedBpe): string {
  const head: Omit<TokenizerFileFormat, "model"> = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: model.specialTokens.map((content) => ({
      id: model.vocab.get(content) as number,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: BYTE_LEVEL,
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
  };
  const settings: Omit<BpeModelFormat, "vocab" | "merges"> = {
    type: "BPE",
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
  };
  // Written by hand: a JS object would put integer-like keys ("0", "1", ...) before the others.
  const vocab = [...model.vocab].map(([token, id]) => `${JSON.stringify(token)}:${id}`).join(",");
  const headText = JSON.stringify(head).slice(0, -1);
  const settingsText = JSON.stringify(settings).slice(0, -1);
  return `${headText},"model":${settingsText},"vocab":{${vocab}},"merges":${JSON.stringify(model.merges)}}}`;
}

function requireInteger(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new TokenizerError(
      "TOKENIZER_INPUT",
      `trainBpe: ${name} must be an integer >= ${minimum}, got ${JSON.stringify(value)}`,
    );
  }
}
