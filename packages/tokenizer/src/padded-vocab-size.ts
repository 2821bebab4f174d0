/** Parameters of `paddedVocabSize`. */
export interface PaddedVocabSizeParams {
  /** Tokens in the tokenizer. @default 50277 (GPT-NeoX-20B) */
  vocabSize?: number;
  /** GPT-NeoX `make-vocab-size-divisible-by`. @default 128 */
  divisibleBy?: number;
  /** GPT-NeoX `model-parallel-size`: Pythia 6.9B used 2, 12B used 4, the rest 1. @default 1 */
  modelParallelSize?: number;
}

/**
 * Embedding rows of a GPT-NeoX model: the tokenizer's size rounded up to a multiple of
 * `divisibleBy * modelParallelSize` (NeoX `_vocab_size_with_padding`). Gives 50304 for most Pythia
 * sizes, 50432 for 6.9B and 50688 for 12B.
 *
 * @example paddedVocabSize({ modelParallelSize: 2 }) // 50432
 */
export function paddedVocabSize(params: PaddedVocabSizeParams = {}): number {
  const vocabSize = params.vocabSize ?? 50277;
  const multiple = (params.divisibleBy ?? 128) * (params.modelParallelSize ?? 1);
  for (const [name, value] of [
    ["vocabSize", vocabSize],
    ["multiple", multiple],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new RangeError(`paddedVocabSize: ${name} must be a positive integer, got ${value}`);
    }
  }
  return Math.ceil(vocabSize / multiple) * multiple;
}

/** The padded vocab size of each Pythia model, by name (`pythia-70m` ... `pythia-12b`). */
export const PYTHIA_PADDED_VOCAB_SIZE: Readonly<Record<string, number>> = {
  "pythia-14m": 50304,
  "pythia-31m": 50304,
  "pythia-70m": 50304,
  "pythia-160m": 50304,
  "pythia-410m": 50304,
  "pythia-1b": 50304,
  "pythia-1.4b": 50304,
  "pythia-2.8b": 50304,
  "pythia-6.9b": 50432,
  "pythia-12b": 50688,
};
