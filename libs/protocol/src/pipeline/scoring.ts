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

export interface ScorecardPoints {
  /** Per feature (in the model's order), each requested row's points; 0 for a row this party does not hold. */
  readonly byFeature: readonly Float64Array[];
  readonly totals: Float64Array;
}

/** Each requested row's points per feature of this party, and per row this party's points summed with the base points (at the label party). */
export function scorecardPoints(
  model: PipelinePartyModel,
  rows: readonly (number | undefined)[],
  value: (row: number, column: number) => number,
): ScorecardPoints {
  const card = model.scorecard!;
  const totals = new Float64Array(rows.length).fill(card.base ?? 0);
  const held = rows.flatMap((r, k) => (r === undefined ? [] : [k]));
  const byFeature = card.features.map((f, j) => {
    const points = new Float64Array(rows.length);
    const values = Float64Array.from(held, (k) => value(rows[k]!, j));
    const bins = binColumn(values, { thresholds: Float64Array.from(f.thresholds) }, f.thresholds.length + 1);
    held.forEach((k, i) => {
      points[k] = f.points[bins[i]];
      totals[k] += points[k];
    });
    return points;
  });
  return { byFeature, totals };
}

/**
 * The points a party hands its own operator: one line per requested applicant it holds, its
 * features' points by column name, the base points at the label party, and the party's total.
 */
export function pointsCsv(
  model: PipelinePartyModel,
  ids: readonly string[],
  rows: readonly (number | undefined)[],
  points: ScorecardPoints,
): string {
  const base = model.scorecard!.base;
  const head = ['id', ...model.woeColumns!, ...(base !== undefined ? ['base'] : []), 'total'];
  const lines = [head.map(csvCell).join(',')];
  rows.forEach((r, k) => {
    if (r === undefined) return;
    const cells = [...points.byFeature.map((p) => p[k]), ...(base !== undefined ? [base] : []), points.totals[k]];
    lines.push([csvCell(ids[k]), ...cells.map(String)].join(','));
  });
  return `${lines.join('\n')}\n`;
}

/** RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled. */
function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
