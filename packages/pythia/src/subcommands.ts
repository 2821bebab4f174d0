/** One `pythia <name>` subcommand: the package and the bin of the command line it runs. */
export interface Subcommand {
  /** The word after `pythia`. */
  name: string;
  /** The npm package that ships the command line. */
  packageName: string;
  /** The bin name in that package's `package.json`. */
  bin: string;
  /** One line for `pythia --help`. */
  summary: string;
}

/** Every subcommand of `pythia`, in the order `pythia --help` lists them. */
export const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "train",
    packageName: "@pythia/train-app",
    bin: "pythia-train",
    summary: "train a Pythia-shaped GPT-NeoX model and write Pythia's checkpoint series",
  },
  {
    name: "eval",
    packageName: "@pythia/eval",
    bin: "pythia-eval",
    summary: "lm-evaluation-harness v0.3.0 tasks over checkpoints",
  },
  {
    name: "analyze",
    packageName: "@pythia/analyze-app",
    bin: "pythia-analyze",
    summary: "the Pythia paper's analyses over a run's checkpoints",
  },
  {
    name: "hub",
    packageName: "@pythia/hub",
    bin: "pythia-hub",
    summary: "push, pull and verify checkpoints on the Hugging Face Hub",
  },
  {
    name: "model",
    packageName: "@pythia/model",
    bin: "pythia-model",
    summary: "inspect, convert and run GPT-NeoX checkpoints",
  },
  {
    name: "data",
    packageName: "@pythia/dataloader",
    bin: "pythia-data",
    summary: "tokenize corpora into GPT-NeoX indexed datasets and read Pythia's data order",
  },
  {
    name: "tokenize",
    packageName: "@pythia/tokenizer",
    bin: "pythia-tokenize",
    summary: "encode and decode with the GPT-NeoX-20B tokenizer, train BPE tokenizers",
  },
];

/** The subcommand called `name`, or `null`. */
export function findSubcommand(name: string): Subcommand | null {
  return SUBCOMMANDS.find((subcommand) => subcommand.name === name) ?? null;
}
