export { EvalError, type EvalErrorCode } from "./eval-errors.js";
export {
  argmax,
  bootstrapStderr,
  type BootstrapStderrParams,
  mean,
  meanStderr,
  perplexity,
  pythonSum,
  sampleStddev,
} from "./metrics.js";
export {
  type Aggregation,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  type SplitSource,
  type Task,
} from "./task.js";
export { getTask, PYTHIA_TASKS, TASK_NAMES, TASKS } from "./task-registry.js";
export {
  buildTaskRequests,
  type BuildTaskRequestsParams,
  type DocRequests,
  type TaskRequests,
} from "./build-requests.js";
export {
  type LoglikelihoodModel,
  type RowScore,
  type ScoreRow,
  TfjsLoglikelihoodModel,
} from "./tfjs-loglikelihood-model.js";
export { requestKey, ScoreCache } from "./score-cache.js";
export {
  type ScoredRequest,
  type ScoreProgressEvent,
  scoreRequests,
  type ScoreRequestsParams,
} from "./score-requests.js";
export {
  compareResults,
  formatResultsTable,
  type HarnessResults,
  type MetricDelta,
  readResultsFile,
} from "./results-format.js";
export { evaluate, type EvaluateEvent, type EvaluateParams } from "./evaluate.js";
export { checkpointRevision } from "./checkpoint-revision.js";
export {
  plotSweep,
  sweep,
  type SweepEvent,
  type SweepParams,
  type SweepResult,
  type SweepRow,
  sweepRows,
  sweepToCsv,
} from "./sweep.js";
