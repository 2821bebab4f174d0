import { join } from "node:path";
import type { RunJson } from "@pythia/core/run";
import type { TrainingData } from "./batch-source.js";
import type { TrainConfig } from "./train-config.js";
import { parseTrainConfig } from "./trainer.js";

/** What a recorded run trains with: its configuration and its data, as `train` takes them. */
export interface RunTrainingInput {
  config: TrainConfig;
  data: TrainingData;
}

/**
 * The configuration (validated again by the trainer's schema) and the training data of a run read with
 * `readRunJson` from `@pythia/core/run`; index maps are cached under `<indexMapsRun>/index-maps`
 * (default: the run's own).
 * @throws TrainingError (`CONFIG`) when the recorded configuration is not valid.
 */
export function runTrainingInput(run: RunJson, options: { indexMapsRun?: string } = {}): RunTrainingInput {
  const config = parseTrainConfig(run.config as unknown as Parameters<typeof parseTrainConfig>[0]);
  const { data } = run;
  return {
    config,
    data:
      data.kind === "index-map"
        ? {
            kind: "index-map",
            prefix: data.prefix,
            cacheDir: join(options.indexMapsRun ?? run.dir, "index-maps"),
            ...(data.validationFraction === undefined ? {} : { validationFraction: data.validationFraction }),
          }
        : {
            kind: "preshuffled",
            prefix: data.prefix,
            ...(data.validationPrefix === undefined ? {} : { validationPrefix: data.validationPrefix }),
          },
  };
}
