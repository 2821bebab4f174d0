import { deprecatedOption } from "@pythia/core/cli";
import { Command } from "commander";
import { unshard } from "./unshard.js";

/** `pythia-data unshard`: joins Pythia's released `.bin` shards into one dataset, checked against its `.idx`. */
export function unshardCommand(): Command {
  const command = new Command("unshard")
    .description(
      "join a .bin released in shards (document-00000-of-00020.bin …) into PREFIX.bin + PREFIX.idx, checking the size against the .idx",
    )
    .requiredOption(
      "--input <pattern>",
      "the shards: a pattern such as 'dir/document-*-of-*.bin' (quoted) or one file",
    )
    .requiredOption("--idx <file>", "the dataset's .idx (document.idx)")
    .requiredOption("--output-prefix <prefix>", "output prefix: writes PREFIX.bin and PREFIX.idx")
    .option("--overwrite", "replace existing outputs")
    .action(async (options: { input: string; idx: string; outputPrefix: string; overwrite?: boolean }) => {
      const result = await unshard(
        {
          input: options.input,
          idx: options.idx,
          outPrefix: options.outputPrefix,
          overwrite: options.overwrite,
        },
        (event) => {
          if (event.type === "planned") {
            process.stderr.write(
              `pythia-data: ${event.shards.length} shards, ${event.totalBytes} bytes (matches ${options.idx})\n`,
            );
          } else if (event.type === "shard-copied") {
            process.stderr.write(`pythia-data: copied ${event.file} (${event.done}/${event.total})\n`);
          }
        },
      );
      process.stdout.write(
        `wrote ${result.bin} (${result.bytes} bytes) and ${result.idx} from ${result.shards.length} shards\n`,
      );
    });
  return deprecatedOption(command, "--out <prefix>", "--output-prefix");
}
