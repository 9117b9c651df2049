/**
 * The result of a split-LR, split-NN or (regression) SecureBoost job whose objective is a continuous target (regression) or
 * one of K classes (multiclass). A binary job keeps its own result type (AUC, KS, curves); this
 * one carries the target's metrics, computed where the targets are (the label party).
 */
import type { EarlyStoppingReport, EpochReport, Datasets } from './job-types';
import type { TargetMetrics } from './evaluation';
import type { ModelManifest } from '../model-manifest';

export interface TargetJobResult {
  readonly model: 'split-lr' | 'split-nn' | 'secureboost';
  readonly objective: 'regression' | 'multiclass';
  readonly intersection: number;
  readonly trainRows: number;
  readonly validationRows: number;
  /** Multiclass: how many classes the label party's column has. */
  readonly classes?: number;
  /** Regression: RMSE, MAE, R² in the target's units; multiclass: accuracy, macro-F1, one-vs-rest AUC per class. */
  readonly train: TargetMetrics;
  readonly validation: TargetMetrics;
  /** The same model (linear, or boosted trees) on the label party's features alone: the uplift baseline. */
  readonly labelOnly: { readonly train: TargetMetrics; readonly validation: TargetMetrics };
  readonly epochs: readonly EpochReport<TargetMetrics>[];
  readonly earlyStopping: EarlyStoppingReport | null;
  readonly manifest: ModelManifest;
  readonly backend: string;
  readonly datasets: Datasets;
  readonly bytesPerEpoch: number;
  readonly bytesPerEpochByLink?: Record<string, number>;
  readonly decryptions?: number;
}
