/**
 * A party's WOE features and scorecard: after binning (and selection), it replaces its aligned
 * columns by the WOE of the kept ones, standardised on the training rows (no clipping, so that
 * points add up to the logit exactly), the label party's intercept last; split LR then trains on
 * them unchanged. After training, each party turns its own weights into points per bin, and an
 * applicant's points per feature are computed where the feature is.
 */
import { binColumn, featurePoints, basePoints, Standardizer, withIntercept, woeEncodeColumn } from '@vfl/ml';
import type { ColumnBinning } from '../binning/feature-bins';
import { PartyError } from '../party/party-error';
import type { PartyJob } from '../party/party-job';
import type { ScorecardSettings } from './settings';

export interface WoeFeatures {
  /** Indices of the kept columns in the party's file, and their binning. */
  readonly kept: readonly number[];
  readonly binning: readonly ColumnBinning[];
  /** The party's values as read (the kept columns' bins come from them). */
  readonly raw: Float64Array;
  readonly width: number;
}

export interface PartyScorecard {
  /** Label party: the offset and the intercept's points. */
  readonly base?: number;
  /** Per kept column: its points per bin (value bins, then missing). */
  readonly features: { readonly column: string; readonly thresholds: number[]; readonly points: number[] }[];
}

/** Replaces the job's aligned columns by the standardised WOE of `kept`. */
export function encodeWoeFeatures(
  job: PartyJob,
  binning: readonly ColumnBinning[],
  kept: readonly number[],
): WoeFeatures {
  const a = job.requireAligned();
  const width = a.columnNames.length;
  for (const j of kept)
    if (!(Number.isInteger(j) && j >= 0 && j < width)) throw new PartyError(`pipe.encode: no column ${j} here`);
  if (kept.length === 0) throw new PartyError('pipe.encode: no column is kept here');
  const k = kept.length;
  const woe = new Float64Array(a.rows * k);
  kept.forEach((j, q) => {
    const column = Float64Array.from({ length: a.rows }, (_, r) => a.raw[r * width + j]);
    const b = binning[j];
    woeEncodeColumn(
      column,
      b.thresholds,
      b.table.bins.map((bin) => bin.woe),
    ).forEach((v, r) => (woe[r * k + q] = v));
  });
  const standardizer = Standardizer.fit(woe, k, a.split.train);
  const standardized = standardizer.transform(woe, k, 0);
  const label = job.role === 'label';
  job.aligned = {
    ...a,
    raw: woe,
    standardized,
    matrix: label ? withIntercept(standardized, k) : standardized,
    columns: label ? k + 1 : k,
    columnNames: kept.map((j) => a.columnNames[j]),
    standardizer,
  };
  return { kept, binning, raw: a.raw, width };
}

/** Points per bin of every kept column from this party's weights (and, at the label party, the base points). */
export function partyScorecard(
  job: PartyJob,
  features: WoeFeatures,
  weights: Float64Array,
  scale: ScorecardSettings,
): PartyScorecard {
  const { means, deviations } = job.requireAligned().standardizer;
  return {
    ...(job.role === 'label' ? { base: basePoints(weights[features.kept.length], scale) } : {}),
    features: features.kept.map((j, q) => {
      const b = features.binning[j];
      return {
        column: b.column,
        thresholds: b.thresholds,
        points: featurePoints(
          b.table.bins.map((bin) => bin.woe),
          weights[q],
          means[q],
          deviations[q],
          scale,
        ),
      };
    }),
  };
}

/** Each row's points per kept feature (row-major, one column per kept feature), from the values as read. */
export function rowPoints(features: WoeFeatures, card: PartyScorecard, rows: Int32Array): Float64Array {
  const k = features.kept.length;
  const out = new Float64Array(rows.length * k);
  features.kept.forEach((j, q) => {
    const { thresholds, points } = card.features[q];
    const column = Float64Array.from(rows, (r) => features.raw[r * features.width + j]);
    const bins = binColumn(column, { thresholds: Float64Array.from(thresholds) }, thresholds.length + 1);
    bins.forEach((b, i) => (out[i * k + q] = points[b]));
  });
  return out;
}

/** Per row, the sum of its points over this party's features. */
export function rowTotals(points: Float64Array, features: number): Float64Array {
  const rows = points.length / Math.max(1, features);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) for (let q = 0; q < features; q++) out[i] += points[i * features + q];
  return out;
}
