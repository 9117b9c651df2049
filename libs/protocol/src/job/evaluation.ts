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
  populationStabilityIndex,
  rocCurve,
  RocPoint,
} from '@vfl/ml';
import { PartyError } from '../party/party-error';
import { JobSlot, PartyJob, Split } from '../party/party-job';
import { binaryMetrics as binaryMetricsSchema } from './commands';

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
