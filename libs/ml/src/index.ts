/** The ml library's public surface (what other libs, apps, scripts and tests import as @vfl/ml). */
export * from './batch-schedule';
export * from './gbdt';
export * from './woe';
export * from './logistic';
export * from './metrics';
export * from './objective-metrics';
export * from './plain-split-lr';
export * from './standardizer';
export * from './tf-backend';
export * from './tf-linear';
export {
  type Activation,
  ACTIVATIONS,
  type DenseLayerSpec,
  type InteractiveLayerSpec,
  type EarlyStoppingSpec,
  type TrainingSpec,
  type NnArchitecture,
  ArchitectureError,
  MAX_UNITS,
  MAX_LAYERS,
  validateArchitecture,
  bottomOf,
  bottomPath,
  bottomOutputWidth,
  scheduleFactor,
  INTERACTIVE_DEFAULTS,
  // Split NN's schedule names differ from split LR's (logistic.ts), hence the prefix.
  type LearningRateSchedule as NnLearningRateSchedule,
} from './nn/architecture';
export {
  type PartyBlock,
  type CentralNnInput,
  type EpochRecord,
  type NnTrainingResult,
  trainCentralNn,
  EarlyStopping as NnEarlyStopping,
} from './nn/central';
export * from './nn/dense-stack';
export * from './nn/models';
export * from './nn/optimizer';
export * from './delong';
