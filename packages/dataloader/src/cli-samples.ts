import { deprecatedOption } from "@pythia/core/cli";
import { Command, Option } from "commander";
import { writeFileAtomic } from "@pythia/core";
import { integer } from "./cli-options.js";
import { buildIndexMaps, GPT2Dataset, loadOrBuildIndexMaps, type IndexMaps } from "./gpt2-dataset.js";
import { IndexedDataset } from "./indexed-dataset.js";

interface SamplesOptions {
  prefix: string;
  seqLength: number;
  seed: number;
  numSamples: number;
  output: string;
  name: string;
  cache: boolean;
  cacheDir?: string;
}

/** Index-map options shared by `samples` and `batch`. */
export function indexMapOptions(command: Command, required: boolean): Command {
  const add = (flags: string, description: string) =>
    command.addOption(
      required
        ? new Option(flags, description).argParser(integer).makeOptionMandatory()
        : new Option(flags, description).argParser(integer),
    );
  add("--seed <n>", "RandomState seed (1234 for Pythia)");
  add("--num-samples <n>", "samples requested (147164160 for Pythia)");
  return command
    .option("--name <name>", 'dataset name in the cache file names ("train_0" for Pythia\'s runs)', "train")
    .option(
      "--cache-dir <dir>",
      "where the *_indexmap_*.npy caches live (default: next to the dataset, like GPT-NeoX)",
    )
    .option("--no-cache", "build the index maps in memory without reading or writing .npy caches");
}

/** Opens the dataset and its GPT-NeoX index maps (cached unless `cache` is false). */
export function openOrder(options: {
  prefix: string;
  seqLength: number;
  seed: number;
  numSamples: number;
  name: string;
  cache: boolean;
  cacheDir?: string;
}): { order: GPT2Dataset; indexMaps: IndexMaps } {
  const dataset = IndexedDataset.open(options.prefix);
  try {
    const params = {
      sizes: dataset.sizes,
      numSamples: options.numSamples,
      seqLength: options.seqLength,
      seed: options.seed,
    };
    const indexMaps = options.cache
      ? loadOrBuildIndexMaps({
          ...params,
          prefix: options.prefix,
          name: options.name,
          cacheDir: options.cacheDir,
        })
      : buildIndexMaps(params);
    return { order: new GPT2Dataset({ dataset, indexMaps }), indexMaps };
  } catch (error) {
    dataset.close();
    throw error;
  }
}

/** `pythia-data samples`: every sample GPT-NeoX's GPT2Dataset serves, in training order, plus its index arrays. */
export function samplesCommand(): Command {
  const command = new Command("samples")
    .description(
      "write every sample of GPT-NeoX's GPT2Dataset order (and doc_idx, sample_idx, shuffle_idx) as JSON",
    )
    .requiredOption("--prefix <prefix>", "dataset path prefix (without .bin/.idx)")
    .addOption(
      new Option("--seq-length <n>", "tokens per sample minus one (2048 for Pythia)")
        .argParser(integer)
        .makeOptionMandatory(),
    )
    .requiredOption("--output <file>", "output JSON file (written atomically)");
  deprecatedOption(command, "--out <file>", "--output");
  indexMapOptions(command, true);
  return command.action((options: SamplesOptions) => {
    const { order, indexMaps } = openOrder(options);
    try {
      const width = order.seqLength + 1;
      const all = order.samples(0, order.length);
      const samples: number[][] = [];
      for (let i = 0; i < order.length; i++) {
        samples.push(Array.from(all.subarray(i * width, (i + 1) * width)));
      }
      const sampleIdx: Array<[number, number]> = [];
      for (let row = 0; row < indexMaps.sampleIdx.length / 2; row++) {
        sampleIdx.push([indexMaps.sampleIdx[2 * row] as number, indexMaps.sampleIdx[2 * row + 1] as number]);
      }
      const json = JSON.stringify({
        samples,
        doc_idx: Array.from(indexMaps.docIdx),
        sample_idx: sampleIdx,
        shuffle_idx: Array.from(indexMaps.shuffleIdx, Number),
      });
      writeFileAtomic(options.output, `${json}\n`);
      process.stdout.write(
        `wrote ${options.output}: ${order.length} samples of ${width} tokens (${indexMaps.numEpochs} epoch(s), ${options.numSamples} requested)\n`,
      );
    } finally {
      order.dataset.close();
    }
  });
}
