/**
 * Per-column summary statistics, computed where the data is (statistics model): count, missing
 * rate, mean, standard deviation, extremes, quantiles and distinct count of one column's values at
 * the given rows. Missing values are NaN; they count towards `missing` and nothing else.
 */

export const STATISTIC_NAMES = ['count', 'missingRate', 'mean', 'std', 'min', 'max', 'quantiles', 'distinct'] as const;
export type StatisticName = (typeof STATISTIC_NAMES)[number];

export interface ColumnStatistics {
  readonly column: string;
  /** Rows looked at (missing included). */
  readonly count: number;
  readonly missing: number;
  readonly missingRate: number;
  /** Null when every value is missing. */
  readonly mean: number | null;
  /** Population standard deviation (divides by the non-missing count). */
  readonly std: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** numpy's default (linear) quantiles at the requested probabilities, keyed by probability. */
  readonly quantiles: Record<string, number | null>;
  readonly distinct: number;
}

export const DEFAULT_QUANTILES: readonly number[] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

/**
 * Statistics of column `column` of a row-major `columns`-wide matrix at `rows`.
 * @throws RangeError when a probability is outside [0, 1] or a row outside the matrix.
 */
export function columnStatistics(
  matrix: Float64Array,
  columns: number,
  column: number,
  name: string,
  rows: ArrayLike<number>,
  quantiles: readonly number[] = DEFAULT_QUANTILES,
): ColumnStatistics {
  for (const q of quantiles)
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile probabilities must lie in [0, 1], got ${q}`);
  const values = new Float64Array(rows.length);
  let kept = 0;
  let sum = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (!(Number.isInteger(r) && r >= 0 && r * columns + column < matrix.length))
      throw new RangeError('columnStatistics: a row index is outside the matrix');
    const v = matrix[r * columns + column];
    if (Number.isNaN(v)) continue;
    values[kept++] = v;
    sum += v;
  }
  const present = values.subarray(0, kept).sort();
  const missing = rows.length - kept;
  const mean = kept > 0 ? sum / kept : null;
  let squares = 0;
  for (let i = 0; i < kept; i++) squares += (present[i] - mean!) ** 2;
  let distinct = 0;
  for (let i = 0; i < kept; i++) if (i === 0 || present[i] !== present[i - 1]) distinct++;
  return {
    column: name,
    count: rows.length,
    missing,
    missingRate: rows.length > 0 ? missing / rows.length : 0,
    mean,
    std: kept > 0 ? Math.sqrt(squares / kept) : null,
    min: kept > 0 ? present[0] : null,
    max: kept > 0 ? present[kept - 1] : null,
    quantiles: Object.fromEntries(quantiles.map((q) => [String(q), kept > 0 ? linearQuantile(present, q) : null])),
    distinct,
  };
}

/** numpy.quantile(v, q) with the default linear interpolation, on ascending non-empty `sorted`. */
export function linearQuantile(sorted: ArrayLike<number>, q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  if (lower >= sorted.length - 1) return sorted[sorted.length - 1];
  const t = position - lower;
  const a = sorted[lower];
  const b = sorted[lower + 1];
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}
