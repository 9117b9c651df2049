/**
 * Metrics of a model on one split, computed where the labels are (the label party), for every
 * model. Only aggregates leave: with `detailed`, also the confusion matrix at 0.5, the gain/lift
 * table by decile, ROC and KS curves at percentile cuts (each point at least
 * MIN_ROWS_PER_CURVE_POINT rows) and, for validation after train, the score stability (PSI).
 */
import { z } from 'zod';
import {
  binaryMetrics,
  BinaryMetrics,
  confusionMatrix,
  ConfusionMatrix,
  CURVE_POINTS,
  gainLiftTable,
  GainLiftRow,
  ksCurve,
  KsPoint,
  multiclassMetrics,
  MulticlassMetrics,
  populationStabilityIndex,
  regressionMetrics,
  RegressionMetrics,
  rocCurve,
  RocPoint,
} from '@vfl/ml';
import { PartyError } from '../party/party-error';
import { JobSlot, PartyJob, Split } from '../party/party-job';
import { binaryMetrics as binaryMetricsSchema, targetMetrics as targetMetricsSchema } from './commands';
import type { AucUplift } from './commands';

/** Each point of a released ROC or KS curve aggregates at least this many rows, like a coarse gain/lift bin. */
export const MIN_ROWS_PER_CURVE_POINT = 20;

export interface DetailedMetrics extends BinaryMetrics {
  readonly confusion: ConfusionMatrix;
  readonly gainLift: GainLiftRow[];
  /** At most 101 points each (percentile cuts, at least MIN_ROWS_PER_CURVE_POINT rows apart): aggregates for plotting. */
  readonly rocCurve: RocPoint[];
  readonly ksCurve: KsPoint[];
  /** Population stability index of validation scores against training scores (null for train). */
  readonly scoreStability: number | null;
}

/** An evaluation reply: the binary metrics, and with `detailed` the rest (checked by shape). */
export const evaluationReply = z.union([
  binaryMetricsSchema.extend({
    confusion: z.looseObject({ threshold: z.number(), tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number() }),
    gainLift: z.array(z.looseObject({ bin: z.number(), count: z.number(), positives: z.number() })).max(1000),
    rocCurve: z.array(z.looseObject({ fpr: z.number(), tpr: z.number() })).max(CURVE_POINTS),
    ksCurve: z.array(z.looseObject({})).max(CURVE_POINTS),
    scoreStability: z.number().nullable(),
  }),
  binaryMetricsSchema,
]);

/** Split LR's and split NN's evaluation reply: binary as above, or a continuous target's or K classes' metrics. */
export const objectiveEvaluationReply = z.union([evaluationReply, targetMetricsSchema]);

/** What a model other than a binary classifier is scored by (objective regression or multiclass). */
export type TargetMetrics = RegressionMetrics | MulticlassMetrics;

/** Any evaluation reply: binary (maybe detailed), or a continuous target's or K classes' metrics. */
export type EvaluationMetrics = BinaryMetrics | DetailedMetrics | TargetMetrics;

export function isTargetMetrics(m: EvaluationMetrics): m is TargetMetrics {
  return 'objective' in m;
}

/** The label party's baseline: binary metrics, or for a regression or multiclass job the target's. */
export type Baseline =
  | { readonly train: BinaryMetrics; readonly validation: BinaryMetrics; readonly uplift?: AucUplift }
  | { readonly train: TargetMetrics; readonly validation: TargetMetrics };

/** The figures an epoch's validation metrics are summarised by (job progress, audit). */
export function epochFigures(m: EvaluationMetrics): Record<string, number> {
  if (!isTargetMetrics(m)) return { validationAuc: m.auc, validationLoss: m.logLoss, validationKs: m.ks };
  if (m.objective === 'regression') return { validationR2: m.r2, validationRmse: m.rmse, validationLoss: m.loss };
  return { validationAuc: m.auc, validationAccuracy: m.accuracy, validationLoss: m.logLoss };
}

/** A regression or multiclass job's metrics, checked to be what the label party reports for such a job. */
export function targetMetricsOf(
  train: EvaluationMetrics,
  validation: EvaluationMetrics,
  baseline: Baseline,
): { train: TargetMetrics; validation: TargetMetrics; labelOnly: { train: TargetMetrics; validation: TargetMetrics } } {
  const all = [train, validation, baseline.train, baseline.validation];
  if (!all.every(isTargetMetrics)) throw new TypeError('a regression or multiclass job got binary metrics');
  const [t, v, bt, bv] = all;
  return { train: t, validation: v, labelOnly: { train: bt, validation: bv } };
}

/** A binary model's baseline, checked to carry binary metrics. */
export function binaryBaseline(b: Baseline): { train: BinaryMetrics; validation: BinaryMetrics; uplift?: AucUplift } {
  if (isTargetMetrics(b.train) || isTargetMetrics(b.validation))
    throw new TypeError('a binary model got a regression or multiclass baseline');
  const uplift = 'uplift' in b ? b.uplift : undefined;
  return { train: b.train, validation: b.validation, ...(uplift ? { uplift } : {}) };
}

/** The loss divergence checks and early stopping on "loss" watch: log loss, or the squared error. */
export function evaluationLoss(m: EvaluationMetrics): number {
  return isTargetMetrics(m) && m.objective === 'regression' ? m.loss : m.logLoss;
}

/** The score early stopping on "auc" watches (higher is better): AUC (macro one-vs-rest for K classes), R² for a target. */
export function evaluationScore(m: EvaluationMetrics): number {
  return isTargetMetrics(m) && m.objective === 'regression' ? m.r2 : m.auc;
}

/**
 * Metrics of a regression or multiclass model on one split, where the targets are. `outputs`:
 * the predictions in the target's units (regression), or row-major rows × K probabilities.
 */
export function targetSplitMetrics(job: PartyJob, split: Split, outputs: Float64Array): TargetMetrics {
  const rows = job.rows(split);
  const a = job.requireAligned();
  if (!a.targets) throw new PartyError('metrics are computed where the targets are');
  const targets = Float64Array.from(rows, (r) => a.targets![r]);
  if (a.classCount === undefined) return regressionMetrics(outputs, targets);
  return multiclassMetrics(outputs, targets, a.classCount);
}

/** One point per percentile (101) on large splits, fewer on small ones. */
export function curvePoints(rows: number): number {
  return Math.max(2, Math.min(CURVE_POINTS, Math.floor(rows / MIN_ROWS_PER_CURVE_POINT) + 1));
}

/** The final model's scores per split (label party), for the stability index. */
const FINAL_SCORES = new JobSlot<Map<Split, Float64Array>>('final scores');

/** Metrics of a split's probabilities, where the labels are; detailed: confusion, gain/lift, curves, stability. */
export function splitMetrics(
  job: PartyJob,
  split: Split,
  probabilities: Float64Array,
  detailed: boolean,
): BinaryMetrics | DetailedMetrics {
  const rows = job.rows(split);
  if (probabilities.length !== rows.length)
    throw new PartyError(`${probabilities.length} scores for the ${rows.length} ${split} rows`);
  const all = job.requireAligned().labels;
  if (!all) throw new PartyError('metrics are computed where the labels are');
  const labels = Uint8Array.from(rows, (r) => all[r]);
  const metrics = binaryMetrics(probabilities, labels);
  if (!detailed) return metrics;
  const finals = job.find(FINAL_SCORES) ?? new Map<Split, Float64Array>();
  job.set(FINAL_SCORES, finals);
  finals.set(split, probabilities);
  const train = finals.get('train');
  return {
    ...metrics,
    confusion: confusionMatrix(probabilities, labels, 0.5),
    gainLift: gainLiftTable(probabilities, labels, 10),
    rocCurve: rocCurve(probabilities, labels, curvePoints(rows.length)),
    ksCurve: ksCurve(probabilities, labels, curvePoints(rows.length)),
    scoreStability: split === 'validation' && train ? populationStabilityIndex(train, probabilities, 10) : null,
  };
}

/** The final model's scores of a split at the label party, once its detailed evaluation ran. */
export function finalScores(job: PartyJob, split: Split): Float64Array | undefined {
  return job.find(FINAL_SCORES)?.get(split);
}
