export { AnalysisError, type AnalysisErrorCode } from "./analysis-errors.js";
export {
  openCheckpointSeries,
  openTrainingRun,
  type CheckpointSeries,
  type OpenCheckpointSeriesParams,
  type TrainingRun,
} from "./training-run.js";
export { seriesSteps, type SeriesStepsParams } from "./series-steps.js";
export {
  memorization,
  memorizationIter,
  memorizationScore,
  memorizedFlags,
  modelGreedyContinuation,
  readScoresFile,
  type GreedyContinuation,
  type MemorizationEvent,
  type MemorizationParams,
  type MemorizationResult,
  type MemorizationScores,
} from "./memorization.js";
export {
  memorizeCheckpointsIter,
  type CheckpointMemorization,
  type MemorizeCheckpointsEvent,
  type MemorizeCheckpointsParams,
} from "./memorize-checkpoints.js";
export {
  poissonCheck,
  type PoissonCheckParams,
  type PoissonCheckResult,
  type TestStatistic,
} from "./poisson-check.js";
export {
  countTermFrequencies,
  termFrequency,
  termFrequencyIter,
  type CountOptions,
  type RowTextOptions,
  type TermCounts,
  type TermFrequencyEvent,
  type TermFrequencyParams,
  type TermFrequencyResult,
} from "./term-frequency.js";
export {
  ARITHMETIC_SHOTS,
  arithmeticDoc,
  arithmeticEval,
  arithmeticEvalIter,
  arithmeticRequests,
  extractFirstNumber,
  greedyUntilAll,
  modelGreedyUntil,
  performanceGap,
  type ArithmeticDoc,
  type ArithmeticEvalEvent,
  type ArithmeticEvalParams,
  type ArithmeticEvalResult,
  type ArithmeticOperation,
  type ArithmeticRequest,
  type GreedyUntil,
} from "./arithmetic.js";
export {
  accuracyFrequencySeries,
  ARITHMETIC_OPERATIONS,
  parseArithmeticOperations,
  termFrequencyStudy,
  termFrequencyStudyIter,
  type TermFrequencyCheckpoint,
  type TermFrequencyStudy,
  type TermFrequencyStudyEvent,
  type TermFrequencyStudyParams,
} from "./term-frequency-study.js";
export {
  interventionWindow,
  PRONOUN_SWAP_MAP,
  pronounSwapIntervention,
  swapPronouns,
} from "./pronoun-intervention.js";
export { sequenceLoglikelihood } from "./loglikelihood.js";
export {
  crowsPairsMetrics,
  readCrowsPairs,
  type CrowsPair,
  type CrowsPairScore,
  type CrowsPairsMetrics,
} from "./crows-pairs.js";
export {
  exactMatch,
  readWinoBias,
  WINOBIAS_SUBSETS,
  WINOBIAS_TEMPLATES,
  winoBiasMetrics,
  winoBiasRequest,
  type WinoBiasItem,
  type WinoBiasMetrics,
  type WinoBiasRequest,
  type WinoBiasScore,
  type WinoBiasSubset,
  type WinoBiasTemplate,
} from "./winobias.js";
export {
  genderBiasEval,
  genderBiasEvalIter,
  genderBiasReport,
  type GenderBiasEvalParams,
  type GenderBiasEvent,
  type GenderBiasReport,
  type GenderBiasResult,
} from "./gender-bias.js";
export {
  evaluateGenderBiasCheckpoint,
  genderBiasSeries,
  genderBiasSeriesIter,
  genderBiasSeriesSvgs,
  type EvaluateGenderBiasCheckpointParams,
  type GenderBiasSeriesEvent,
  type GenderBiasSeriesParams,
  type GenderBiasSeriesPoint,
} from "./gender-bias-series.js";
export { logitLens, type LogitLensLayer, type LogitLensResult } from "./logit-lens.js";
export {
  compareLenses,
  lensCheckpointStep,
  lensComparisonSvg,
  logitLensSeries,
  logitLensSeriesIter,
  logitLensSeriesSvg,
  tunedLensRowBatches,
  type Decode,
  type DecodedLensLayer,
  type LensComparisonLayer,
  type LogitLensCheckpoint,
  type LogitLensSeriesParams,
} from "./lens-series.js";
export {
  createTunedLens,
  disposeTunedLens,
  loadTunedLens,
  saveTunedLens,
  trainTunedLens,
  trainTunedLensIter,
  type TrainTunedLensParams,
  type TunedLens,
  type TunedLensEvent,
} from "./tuned-lens.js";
export {
  accuracyFrequencySvg,
  genderBiasReportSvg,
  heatmapSvg,
  logFrequencyBins,
  memorizationByStepSvg,
  poissonQqSvg,
  type FrequencyBin,
} from "./plots.js";
export {
  interventionRun,
  interventionRunIter,
  type InterventionRunParams,
  type InterventionRunSummary,
} from "./intervention-run.js";
export { interventionLossSvg } from "./intervention-loss-plot.js";
