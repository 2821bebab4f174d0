export { learningRateAt, type LearningRateSchedule } from "./lr-schedule.js";
export { AdamW, type AdamWOptions, type AdamWSlot, clipCoefficient, clipGradients } from "./adamw.js";
export { type TrainConfig, type TrainConfigInput, TrainConfigSchema } from "./train-config.js";
export { TrainingError, type TrainingErrorCode } from "./training-errors.js";
export { readTrainingCheckpoint, type TrainerState, writeTrainingCheckpoint } from "./training-checkpoint.js";
export { type BatchSource, openBatchSource, requestedSamples, type TrainingData } from "./batch-source.js";
export {
  checkTrainingData,
  type CheckTrainingDataParams,
  openBatchSourceLeavingNothing,
  openCheckedBatchSource,
} from "./data-checks.js";
export {
  dataChangedError,
  type DataChangedErrorParams,
  type DataSource,
  describedOrder,
  trainingDataIdentity,
  type TrainingDataIdentityParams,
} from "./training-data-identity.js";
export {
  type BatchIntervention,
  parseTrainConfig,
  train,
  type TrainEvent,
  trainIter,
  type TrainParams,
  type TrainSummary,
} from "./trainer.js";
export { runTrainingInput, type RunTrainingInput } from "./run-training-input.js";
export { type NeoxTrainingFormat } from "./neox-training-format.js";
export {
  type NeoxConfigFile,
  type NeoxTrainingSettings,
  readNeoxConfigFile,
  toNeoxTrainingYaml,
  type ToNeoxTrainingYamlParams,
} from "./neox-training-config.js";
