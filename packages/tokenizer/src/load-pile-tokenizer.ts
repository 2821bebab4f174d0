import { Tokenizer } from "./tokenizer.js";

let pile: Promise<Tokenizer> | undefined;

/** Id of `<|endoftext|>`, the end-of-document token Pythia appends to every document. */
export const PILE_EOD_ID = 0;
/** Id of `<|padding|>`. */
export const PILE_PADDING_ID = 1;

/**
 * The GPT-NeoX-20B / Pythia tokenizer ("the Pile BPE") bundled with this package. Works in Node and
 * in browsers (the JSON is a lazily loaded module chunk). The instance is shared.
 *
 * @example
 * const tokenizer = await loadPileTokenizer();
 * tokenizer.encode("Hello, world!"); // [12092, 13, 1533, 2]
 */
export function loadPileTokenizer(): Promise<Tokenizer> {
  pile ??= import("../data/gpt-neox-20b/tokenizer.json", { with: { type: "json" } }).then((module) =>
    Tokenizer.fromJSON(module.default, { source: "@pythia/tokenizer/gpt-neox-20b/tokenizer.json" }),
  );
  return pile;
}
