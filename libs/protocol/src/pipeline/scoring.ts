/**
 * Scoring new applicants with a pipeline's scorecard (POST /jobs/:id/predict): each party looks up
 * its own features' points for the requested rows, from the values as read; the label party adds
 * its base points. A feature party sends the label party only each row's total of its points (as
 * split LR sends partial logits); a row it does not hold scores 0 there (the average applicant's
 * points), so its answer does not tell who its customer is.
 */
import { binColumn } from '@vfl/ml';
import type { StoredPartyModel } from '../party/stored-model';
import type { PipelinePartyModel } from './party-handlers';

export function isScorecardModel(m: StoredPartyModel): m is PipelinePartyModel {
  const p = m as PipelinePartyModel;
  return m.family === 'pipeline' && p.scorecard !== undefined && Array.isArray(p.woeColumns);
}

/** Per requested row, this party's points summed over its features (plus the base points at the label party). */
export function scorecardTotals(
  model: PipelinePartyModel,
  rows: readonly (number | undefined)[],
  value: (row: number, column: number) => number,
): Float64Array {
  const card = model.scorecard!;
  const totals = new Float64Array(rows.length).fill(card.base ?? 0);
  card.features.forEach((f, j) => {
    const held = rows.flatMap((r, k) => (r === undefined ? [] : [k]));
    const values = Float64Array.from(held, (k) => value(rows[k]!, j));
    const bins = binColumn(values, { thresholds: Float64Array.from(f.thresholds) }, f.thresholds.length + 1);
    held.forEach((k, i) => (totals[k] += f.points[bins[i]]));
  });
  return totals;
}
