/**
 * Gradient histograms of one block of features (one party's). Per feature there are `maxBins + 1`
 * slots (bins 0..maxBins-1, then missing), each holding the sums G = Σg and H = Σh of the rows
 * that fall in it. The plaintext reference builds these directly; the federated run builds the
 * same sums under encryption. With fixed-point gradients every sum is exact, so subtraction of a
 * child from its parent gives exactly the sibling.
 */

import { MAX_BINS_LIMIT } from './binning';

/** sums has features·(maxBins+1)·2 entries, laid out [feature][slot][G, H]; see {@link histogramIndex}. */
export interface Histogram {
  readonly features: number;
  readonly maxBins: number;
  readonly sums: Float64Array;
}

/** Index of the G sum of (feature, slot) in `sums`; H is at the next index. */
export function histogramIndex(maxBins: number, feature: number, slot: number): number {
  return (feature * (maxBins + 1) + slot) * 2;
}

/** An all-zero histogram of the given shape. */
export function emptyHistogram(features: number, maxBins: number): Histogram {
  assertShape(features, maxBins);
  return { features, maxBins, sums: new Float64Array(features * (maxBins + 1) * 2) };
}

/**
 * Sums g and h per (feature, bin). binned[f][row] is the bin of row `row` in feature f (full-length
 * columns indexed by row id, missing = slot maxBins); g[k] and h[k] belong to row rows[k].
 * Rows are added in the order given, feature by feature.
 */
export function buildHistogram(
  binned: readonly Uint8Array[],
  rows: ArrayLike<number>,
  g: ArrayLike<number>,
  h: ArrayLike<number>,
  maxBins: number,
): Histogram {
  if (g.length !== rows.length || h.length !== rows.length)
    throw new RangeError(`buildHistogram: ${rows.length} rows but ${g.length} g and ${h.length} h values`);
  const histogram = emptyHistogram(binned.length, maxBins);
  const { sums } = histogram;
  const slots = maxBins + 1;
  for (let f = 0; f < binned.length; f++) {
    const column = binned[f];
    const base = f * slots;
    for (let k = 0; k < rows.length; k++) {
      const bin = column[rows[k]];
      // Also catches a row id past the column's end (bin undefined), which would corrupt silently.
      if (!(bin <= maxBins)) throw new RangeError(`buildHistogram: feature ${f} has a bin or row out of range`);
      const at = (base + bin) * 2;
      sums[at] += g[k];
      sums[at + 1] += h[k];
    }
  }
  return histogram;
}

/** The sibling's histogram: parent − child, element by element. */
export function subtractHistogram(parent: Histogram, child: Histogram): Histogram {
  if (parent.features !== child.features || parent.maxBins !== child.maxBins)
    throw new RangeError('subtractHistogram: the histograms have different shapes');
  const sums = new Float64Array(parent.sums.length);
  for (let i = 0; i < sums.length; i++) sums[i] = parent.sums[i] - child.sums[i];
  return { features: parent.features, maxBins: parent.maxBins, sums };
}

/** The node's totals, read from feature 0 (every feature holds every row once). */
export function histogramTotals(h: Histogram): { G: number; H: number } {
  let G = 0;
  let H = 0;
  if (h.features === 0) return { G, H };
  for (let slot = 0; slot <= h.maxBins; slot++) {
    const at = histogramIndex(h.maxBins, 0, slot);
    G += h.sums[at];
    H += h.sums[at + 1];
  }
  return { G, H };
}

function assertShape(features: number, maxBins: number): void {
  if (!Number.isInteger(features) || features < 0) throw new RangeError('features must be a non-negative integer');
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS_LIMIT)
    throw new RangeError(`maxBins must be an integer in [2, ${MAX_BINS_LIMIT}]`);
}
