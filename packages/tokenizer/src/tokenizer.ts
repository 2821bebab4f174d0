import { BytePairEncoder } from "./bpe.js";
import { CHAR_TO_BYTE, GPT2_SPLIT_PATTERN } from "./byte-level.js";
import { TokenizerError, TokenizerFormatError } from "./errors.js";
import { createNormalizer, type Normalize } from "./normalizer.js";
import {
  readAddedTokens,
  readByteLevel,
  readModel,
  readOptionalByteLevel,
  type AddedToken,
} from "./read-tokenizer-file.js";
import { alignNormalized, trimSpaces } from "./token-offsets.js";
import type { TokenizerFileFormat } from "./tokenizer-format.js";
import { ensureUtf8Capacity, writeUtf8 } from "./write-utf8.js";

export type { AddedToken } from "./read-tokenizer-file.js";

/** Token ids with their token strings and character spans. */
export interface EncodingWithOffsets {
  ids: number[];
  /** Token strings in the byte-level alphabet (`Ġworld` for " world"). */
  tokens: string[];
  /**
   * `[start, end)` of each token in the input string, in UTF-16 code units (so `text.slice(start, end)`
   * works). Like Hugging Face with `trim_offsets`, leading and trailing spaces are trimmed from the span.
   */
  offsets: Array<[number, number]>;
}

/** Options of `Tokenizer.decode`. */
export interface DecodeOptions {
  /** Drop special tokens (`<|endoftext|>`, `<|padding|>`) from the text. @default false */
  skipSpecialTokens?: boolean;
}

/** Options of `Tokenizer.fromJSON`. */
export interface FromJsonOptions {
  /** Where the JSON came from, for error messages (a path or URL). @default "<object>" */
  source?: string;
}

const CACHE_LIMIT = 100_000;
const CACHEABLE_WORD_LENGTH = 256;

/** Collects per-token spans while encoding; only allocated by `encodeWithOffsets`. */
interface OffsetTrace {
  offsets: Array<[number, number]>;
}

/**
 * A byte-level BPE tokenizer loaded from a Hugging Face `tokenizer.json` (GPT-2 family: GPT-NeoX-20B,
 * Pythia, GPT-2). Encodes exactly as the Rust `tokenizers` library does: raw-text added tokens are
 * split out first, each remaining piece is normalized (NFC), normalized added tokens are split out,
 * the rest is pre-tokenized with the GPT-2 pattern and each word is BPE-merged.
 */
export class Tokenizer {
  /** Number of distinct tokens, added tokens included (50277 for GPT-NeoX-20B). */
  readonly vocabSize: number;
  /** Added tokens in id order. */
  readonly addedTokens: readonly AddedToken[];

  private readonly tokenToIdMap: Map<string, number>;
  private readonly idToTokenTable: Array<string | undefined>;
  private readonly specialIds: Set<number>;
  private readonly normalize: Normalize | null;
  private readonly rawAddedPattern: RegExp | null;
  private readonly normalizedAddedPattern: RegExp | null;
  /** Raw-text added tokens by content. */
  private readonly addedIdByContent: Map<string, number>;
  /** Normalized added tokens by their normalized content (what the pattern matches). */
  private readonly normalizedAddedIdByContent: Map<string, number>;
  private readonly addPrefixSpace: boolean;
  private readonly useRegex: boolean;
  private readonly trimOffsets: boolean;
  private readonly byteLevelDecoder: boolean;
  private readonly bpe: BytePairEncoder;
  private readonly cache = new Map<string, number[]>();
  private readonly decodedBytes: Array<Uint8Array | undefined> = [];
  private utf8 = new Uint8Array(1024);

  private constructor(file: TokenizerFileFormat, source: string) {
    const model = readModel(file, source);
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab)) {
      if (!Number.isInteger(id) || id < 0) {
        throw new TokenizerFormatError({
          source,
          field: `model.vocab["${token}"]`,
          message: `id ${String(id)} is not a non-negative integer`,
        });
      }
      vocab.set(token, id);
    }
    const merges = model.merges.map((merge, index): [string, string] => {
      if (Array.isArray(merge) && merge.length === 2) {
        return [String(merge[0]), String(merge[1])];
      }
      const space = typeof merge === "string" ? merge.indexOf(" ") : -1;
      if (typeof merge !== "string" || space <= 0 || merge.indexOf(" ", space + 1) !== -1) {
        throw new TokenizerFormatError({
          source,
          field: `model.merges[${index}]`,
          message: `expected "left right" or ["left", "right"], got ${JSON.stringify(merge)}`,
        });
      }
      return [merge.slice(0, space), merge.slice(space + 1)];
    });
    this.bpe = new BytePairEncoder({ vocab, merges, ignoreMerges: model.ignore_merges ?? false, source });

    const preTokenizer = readByteLevel(file, source);
    this.addPrefixSpace = preTokenizer.addPrefixSpace;
    this.useRegex = preTokenizer.useRegex;
    const postProcessor = readOptionalByteLevel(file, "post_processor", source);
    this.trimOffsets = postProcessor !== null && (postProcessor.trim_offsets ?? true);
    this.byteLevelDecoder = readOptionalByteLevel(file, "decoder", source) !== null;
    this.normalize = createNormalizer(file.normalizer, source);

    const added = readAddedTokens(file, source);
    this.addedTokens = added;
    this.tokenToIdMap = new Map(vocab);
    this.idToTokenTable = [];
    for (const [token, id] of vocab) {
      this.idToTokenTable[id] = token;
    }
    this.specialIds = new Set();
    this.addedIdByContent = new Map();
    for (const token of added) {
      this.tokenToIdMap.set(token.content, token.id);
      this.idToTokenTable[token.id] = token.content;
      this.addedIdByContent.set(token.content, token.id);
      if (token.special) {
        this.specialIds.add(token.id);
      }
    }
    this.vocabSize = this.tokenToIdMap.size;
    this.rawAddedPattern = alternation(added.filter((token) => !token.normalized).map((t) => t.content));
    this.normalizedAddedIdByContent = new Map(
      added
        .filter((token) => token.normalized)
        .map((token) => [this.normalize ? this.normalize(token.content) : token.content, token.id]),
    );
    this.normalizedAddedPattern = alternation([...this.normalizedAddedIdByContent.keys()]);
  }

  /**
   * Builds a tokenizer from a parsed `tokenizer.json` object.
   * @throws TokenizerFormatError naming the field when the file is malformed or uses an unsupported component.
   */
  static fromJSON(json: unknown, options: FromJsonOptions = {}): Tokenizer {
    const source = options.source ?? "<object>";
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new TokenizerFormatError({ source, field: "(root)", message: "expected a JSON object" });
    }
    return new Tokenizer(json as TokenizerFileFormat, source);
  }

  /** Token ids of `text`. No special tokens are added (Pythia uses none; EOD is appended by callers). */
  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeText(text, out, null);
    return out;
  }

  /** `texts.map((text) => this.encode(text))`, sharing one word cache. */
  encodeBatch(texts: readonly string[]): number[][] {
    return texts.map((text) => this.encode(text));
  }

  /** Token ids, token strings and the span of each token in `text` (UTF-16 code units). */
  encodeWithOffsets(text: string): EncodingWithOffsets {
    const ids: number[] = [];
    const trace: OffsetTrace = { offsets: [] };
    this.encodeText(text, ids, trace);
    const tokens = ids.map((id) => this.idToTokenTable[id] ?? "");
    if (this.trimOffsets) {
      tokens.forEach((token, index) => {
        trimSpaces(token, trace.offsets[index] as [number, number]);
      });
    }
    return { ids, tokens, offsets: trace.offsets };
  }

  /**
   * Text of `ids`. Ids outside the vocabulary (e.g. rows 50277-50303 of a padded Pythia embedding)
   * are dropped, and invalid UTF-8 becomes U+FFFD, exactly as Hugging Face decodes.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? false;
    if (!this.byteLevelDecoder) {
      const tokens: string[] = [];
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as number;
        const token = this.idToTokenTable[id];
        if (token !== undefined && !(skipSpecial && this.specialIds.has(id))) {
          tokens.push(token);
        }
      }
      return tokens.join(" ");
    }
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (skipSpecial && this.specialIds.has(id)) {
        continue;
      }
      const bytes = this.bytesOf(id);
      if (bytes !== undefined) {
        parts.push(bytes);
        length += bytes.length;
      }
    }
    const all = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    return UTF8_DECODER.decode(all);
  }

  /** Id of a token string (byte-level alphabet, or an added token's content), or `null`. */
  tokenToId(token: string): number | null {
    return this.tokenToIdMap.get(token) ?? null;
  }

  /** Token string of an id, or `null` when the id is not in the vocabulary. */
  idToToken(id: number): string | null {
    return this.idToTokenTable[id] ?? null;
  }

  /** True when `id` is a special added token (`<|endoftext|>`, `<|padding|>` for GPT-NeoX). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  // ---------------------------------------------------------------------------------------------
  // The encoding pipeline. `trace`, when given, receives one [start, end) per pushed id.

  private encodeText(text: string, out: number[], trace: OffsetTrace | null): void {
    const pattern = this.rawAddedPattern;
    if (pattern === null) {
      this.encodeSegment(text, 0, text.length, out, trace);
      return;
    }
    pattern.lastIndex = 0;
    let last = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      this.encodeSegment(text, last, match.index, out, trace);
      out.push(this.addedIdByContent.get(match[0]) as number);
      trace?.offsets.push([match.index, match.index + match[0].length]);
      last = match.index + match[0].length;
      pattern.lastIndex = last;
    }
    this.encodeSegment(text, last, text.length, out, trace);
  }

  /** Normalizes `text[start, end)` and encodes it, splitting out normalized added tokens. */
  private encodeSegment(text: string, start: number, end: number, out: number[], trace: OffsetTrace | null) {
    if (start === end) {
      return;
    }
    const original = start === 0 && end === text.length ? text : text.slice(start, end);
    const normalized = this.normalize ? this.normalize(original) : original;
    const alignment =
      trace === null || normalized === original
        ? null
        : alignNormalized(original, normalized, this.normalize);
    const toOriginal =
      trace === null
        ? null
        : (from: number, to: number): [number, number] =>
            alignment === null
              ? [start + from, start + to]
              : [start + (alignment.starts[from] as number), start + (alignment.ends[to - 1] as number)];

    const pattern = this.normalizedAddedPattern;
    if (pattern === null) {
      this.encodeWords(normalized, 0, normalized.length, out, trace, toOriginal);
      return;
    }
    pattern.lastIndex = 0;
    let last = 0;
    for (let match = pattern.exec(normalized); match !== null; match = pattern.exec(normalized)) {
      this.encodeWords(normalized, last, match.index, out, trace, toOriginal);
      out.push(this.normalizedAddedIdByContent.get(match[0]) as number);
      if (trace !== null && toOriginal !== null) {
        trace.offsets.push(toOriginal(match.index, match.index + match[0].length));
      }
      last = match.index + match[0].length;
      pattern.lastIndex = last;
    }
    this.encodeWords(normalized, last, normalized.length, out, trace, toOriginal);
  }

  /** Pre-tokenizes `text[start, end)` with the GPT-2 pattern and BPE-encodes each word. */
  private encodeWords(
    text: string,
    start: number,
    end: number,
    out: number[],
    trace: OffsetTrace | null,
    toOriginal: ((from: number, to: number) => [number, number]) | null,
  ): void {
    if (start === end) {
      return;
    }
    let piece = start === 0 && end === text.length ? text : text.slice(start, end);
    let prefixed = false;
    if (this.addPrefixSpace && !piece.startsWith(" ")) {
      piece = " " + piece;
      prefixed = true;
    }
    // Piece coordinates -> `text` coordinates; a prepended prefix space shares the first character's span.
    const span =
      toOriginal === null
        ? null
        : (from: number, to: number): [number, number] =>
            prefixed
              ? toOriginal(start + Math.max(0, from - 1), start + Math.max(1, to - 1))
              : toOriginal(start + from, start + to);
    if (!this.useRegex) {
      this.encodeWord(piece, 0, out, trace, span);
      return;
    }
    const pattern = GPT2_SPLIT_PATTERN;
    pattern.lastIndex = 0;
    if (trace === null) {
      for (let match = pattern.exec(piece); match !== null; match = pattern.exec(piece)) {
        const word = match[0];
        const cached = this.cache.get(word);
        if (cached !== undefined) {
          for (let i = 0; i < cached.length; i++) {
            out.push(cached[i] as number);
          }
        } else {
          this.encodeWord(word, 0, out, null, null);
        }
      }
      return;
    }
    for (let match = pattern.exec(piece); match !== null; match = pattern.exec(piece)) {
      this.encodeWord(match[0], match.index, out, trace, span);
    }
  }

  /** BPE-encodes one word (with the cache); when tracing, records each token's span via `span`. */
  private encodeWord(
    word: string,
    wordStart: number,
    out: number[],
    trace: OffsetTrace | null,
    span: ((from: number, to: number) => [number, number]) | null,
  ): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      this.utf8 = ensureUtf8Capacity(this.utf8, word);
      const length = writeUtf8(word, this.utf8);
      ids = [];
      this.bpe.encodeBytes(this.utf8, length, ids);
      if (word.length < CACHEABLE_WORD_LENGTH) {
        if (this.cache.size >= CACHE_LIMIT) {
          this.cache.clear();
        }
        this.cache.set(word, ids);
      }
    }
    for (let i = 0; i < ids.length; i++) {
      out.push(ids[i] as number);
    }
    if (trace === null || span === null) {
      return;
    }
    // Byte position -> UTF-16 index in `word`, so each token maps to the characters its bytes touch.
    const charOfByte: number[] = [];
    for (let i = 0; i < word.length; i++) {
      const code = word.codePointAt(i) as number;
      const bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : code > 0xffff ? 4 : 3;
      for (let b = 0; b < bytes; b++) {
        charOfByte.push(i);
      }
      if (code > 0xffff) {
        i++;
      }
    }
    let byte = 0;
    for (const id of ids) {
      const width = this.bytesOf(id)?.length ?? 1;
      const firstChar = charOfByte[byte] as number;
      const lastChar = charOfByte[Math.min(byte + width, charOfByte.length) - 1] as number;
      const lastUnits = (word.codePointAt(lastChar) as number) > 0xffff ? 2 : 1;
      byte += width;
      trace.offsets.push(span(wordStart + firstChar, wordStart + lastChar + lastUnits));
    }
  }

  /** The bytes a token stands for: byte-level symbols mapped back, or the raw UTF-8 of an added token. */
  private bytesOf(id: number): Uint8Array | undefined {
    const cached = this.decodedBytes[id];
    if (cached !== undefined) {
      return cached;
    }
    const token = this.idToTokenTable[id];
    if (token === undefined) {
      return undefined;
    }
    const bytes: number[] = [];
    let allByteLevel = true;
    for (const char of token) {
      const byte = CHAR_TO_BYTE.get(char.codePointAt(0) as number);
      if (byte === undefined) {
        allByteLevel = false;
        break;
      }
      bytes.push(byte);
    }
    const result = allByteLevel ? Uint8Array.from(bytes) : UTF8_ENCODER.encode(token);
    this.decodedBytes[id] = result;
    return result;
  }
}

const UTF8_DECODER = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const UTF8_ENCODER = new TextEncoder();

/** Leftmost-longest matcher for literal strings (JS alternation is leftmost-first, so sort longest first). */
function alternation(literals: string[]): RegExp | null {
  const unique = [...new Set(literals.filter((literal) => literal.length > 0))];
  if (unique.length === 0) {
    return null;
  }
  unique.sort((a, b) => b.length - a.length);
  return new RegExp(unique.map((literal) => literal.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|"), "gu");
}

export { TokenizerError };
