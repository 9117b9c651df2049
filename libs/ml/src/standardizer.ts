/**
 * Column standardisation fitted on one party's own training rows. Each party standardises
 * locally: means and deviations never leave the party.
 */
export class Standardizer {
  private constructor(
    readonly means: Float64Array,
    readonly deviations: Float64Array,
  ) {}

  /** The standardisation a saved model was trained with. */
  static of(means: ArrayLike<number>, deviations: ArrayLike<number>): Standardizer {
    if (means.length !== deviations.length)
      throw new RangeError(`Standardizer: ${means.length} means but ${deviations.length} deviations`);
    return new Standardizer(Float64Array.from(means), Float64Array.from(deviations));
  }

  /**
   * @param matrix row-major, `columns` wide.
   * @param rows the rows to fit on (training rows only).
   */
  static fit(matrix: Float64Array, columns: number, rows: ArrayLike<number>): Standardizer {
    if (rows.length === 0) throw new RangeError('Standardizer needs at least one row to fit on');
    const means = new Float64Array(columns);
    const deviations = new Float64Array(columns);
    // Missing values (NaN, which only models that bin them accept) are left out of the fit.
    const counts = new Float64Array(columns);
    for (let k = 0; k < rows.length; k++) {
      const base = rows[k] * columns;
      for (let j = 0; j < columns; j++) {
        const v = matrix[base + j];
        if (Number.isNaN(v)) continue;
        means[j] += v;
        counts[j]++;
      }
    }
    for (let j = 0; j < columns; j++) means[j] = counts[j] > 0 ? means[j] / counts[j] : 0;
    for (let k = 0; k < rows.length; k++) {
      const base = rows[k] * columns;
      for (let j = 0; j < columns; j++) {
        const v = matrix[base + j];
        if (!Number.isNaN(v)) deviations[j] += (v - means[j]) ** 2;
      }
    }
    // A constant column keeps deviation 1 so it maps to zeros instead of NaN.
    for (let j = 0; j < columns; j++) deviations[j] = Math.sqrt(deviations[j] / Math.max(1, counts[j])) || 1;
    return new Standardizer(means, deviations);
  }

  /** @param clip when positive, standardised values are clipped to [-clip, clip]. */
  transform(matrix: Float64Array, columns: number, clip = 0): Float64Array {
    if (!(clip >= 0)) throw new RangeError(`"clip" expected a number >= 0, got ${clip}`);
    const bound = clip > 0 ? clip : Infinity;
    const out = new Float64Array(matrix.length);
    for (let i = 0; i < matrix.length; i++) {
      const j = i % columns;
      out[i] = Math.max(-bound, Math.min(bound, (matrix[i] - this.means[j]) / this.deviations[j]));
    }
    return out;
  }
}
