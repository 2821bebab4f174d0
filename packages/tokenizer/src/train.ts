/**
 * `@pythia/tokenizer/train`: BPE tokenizer training (Node only: it reads files on worker threads).
 * Kept apart from the main entry so that encoding pulls in none of it.
 */
export {
  trainBpe,
  trainBpeEvents,
  trainedTokenizerJson,
  type TrainBpeParams,
  type TrainBpeProgress,
  type TrainedBpe,
  type WordsCounted,
} from "./train-bpe.js";
export { countWords, type CountProgress, type CountWordsParams } from "./count-words.js";
export {
  learnBpeMerges,
  type BpeModel,
  type LearnBpeMergesParams,
  type MergeProgress,
} from "./learn-bpe-merges.js";
export { BYTE_TO_CHAR } from "./byte-level.js";
