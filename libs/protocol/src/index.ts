/** The protocol library's public surface: what the apps, scripts and tests use. */
export * from './job/job-types';
export type { JobContext, JobStrategy, DataSettings, Alignment, EpochTraffic } from './job/strategy';
export { JobRunner, type JobRunnerOptions } from './job/job-runner';
export { checkJobData, DataProblemsError, type JobDataCheck } from './job/data-check';
export { upliftWarnings, MIN_VALIDATION_ROWS_PER_CLASS } from './job/uplift';
export type { AucUplift } from './job/commands';
export { countersignHead, releaseJob, type ChainHead } from './job/countersign';
export type { DetailedMetrics, TargetMetrics, EvaluationMetrics } from './job/evaluation';
export { MIN_ROWS_PER_CURVE_POINT, epochFigures, isTargetMetrics } from './job/evaluation';
export type { TargetJobResult } from './job/target-result';
export { health as partyHealth, type PrepareReply } from './job/commands';
export {
  BUILT_IN_GROUPS,
  BUILT_IN_STRATEGIES,
  isSplitLrResult,
  isSplitNnResult,
  isTargetResult,
  isSecureBoostResult,
  isSecureBoostRegressionResult,
  isStatisticsResult,
  isBinningResult,
  isPipelineResult,
  jobStrategies,
  partyHandlers,
  type JobResult,
} from './registry';
export type { SplitLrJobResult } from './split-lr/strategy';
export type { SplitNnJobResult } from './split-nn/strategy';
export type {
  SecureBoostJobResult,
  SecureBoostRegressionResult,
  TreeReport as SecureBoostTreeReport,
} from './secureboost/strategy';
export {
  secureBoostSettings,
  boosterParams,
  boostingObjectiveProblems,
  impliedBoostingObjective,
  jobSecureBoostSettings,
  type SecureBoostSettings,
  type SecureBoostInput,
} from './secureboost/settings';
export type { SecureBoostLabelModel, SecureBoostFeatureModel } from './secureboost/model';
export { gradientPacking, labelPartyPacking, labelPartyPrecision } from './secureboost/packing';
export { pooledSecureBoostReference, type PooledReference } from './secureboost/plaintext-reference';
export { paillierBinSums, paillierEncryptRows, paillierUnmask } from './secureboost/paillier-histogram';
export type { PsiCardinalityResult } from './psi/cardinality-strategy';
export type { PartyModel, PartyCheckpoint } from './split-lr/model';
export type { NnPartyModel, NnPartyCheckpoint } from './split-nn/model';
export { isNnCheckpoint, isNnPartyModel } from './split-nn/model';
export type { StoredCheckpoint, StoredPartyModel } from './party/stored-model';
export { PartyNode, type PartyAuditLog, type PartyNodeOptions } from './party/party-node';
export { PartyError, failedAtOf } from './party/party-error';
export type { PeerTransport } from './party/peer-link';
export { SplitLrPrediction, type PredictionResult, type PredictionSpec } from './predict/prediction';
export { MAX_PREDICTION_IDS } from './predict/commands';
export { signedPartyChannel, type CommandResult, type PartyChannel } from './wire/party-channel';
export { PARTY_COMMAND_PATTERN, PARTY_PEER_PATTERN, signCommand } from './wire/signed-command';
export type { PeerEnvelope, MessageReceipt } from './wire/peer-envelope';
export { COORDINATOR_ID, type PartyRole, type RosterEntry, type DataReference } from './wire/roster';
export { modelBytes, modelDigest, signManifest, verifyModelManifest, type ModelManifest } from './model-manifest';
export * from './in-process-federation';
export * from './psi/ecdh-psi';
export * from './psi/unbalanced-psi';
export * from './psi/kkrt-psi';
export * as psiCommands from './psi/commands';
export * from './split-nn/defence';
export * from './plaintext-reference';
export * from './split-lr/paillier-split-lr';
export { runSplitNn, splitNnPlaintextReference } from './split-nn/runner';
export type { StatisticsJobResult, PartyStatistics } from './statistics/strategy';
export { statisticsSettings, type StatisticsSettings, type StatisticsInput } from './statistics/settings';
export type { StatisticsPartyModel } from './statistics/party-handlers';
export type { BinningJobResult, PartyBinning } from './binning/strategy';
export { binningSettings, type BinningSettings, type BinningInput } from './binning/settings';
export type { BinningPartyModel } from './binning/party-handlers';
export type { ColumnBinning } from './binning/feature-bins';
export type { SharedFeature } from './binning/commands';
export { pooledWoeReference } from './binning/plaintext-reference';
export * from './selection/select-columns';
export type { PipelineJobResult, PipelineStepReport, ScorecardReport, StepState } from './pipeline/strategy';
export { PipelineStepError } from './pipeline/strategy';
export {
  PIPELINE_STEPS,
  checkedSteps,
  scorecardSettings,
  type PipelineStep,
  type ScorecardInput,
} from './pipeline/settings';
export type { PipelinePartyModel } from './pipeline/party-handlers';
export type { PartyScorecard } from './pipeline/woe-features';
