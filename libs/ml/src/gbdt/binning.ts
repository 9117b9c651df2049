/**
 * Feature binning for gradient-boosted trees: each party bins its own columns locally, once, and
 * only bin indices enter the histograms. Thresholds are fitted on training rows only.
 *
 * Layout convention shared by every gbdt module: a feature has `maxBins + 1` histogram slots,
 * bins 0..maxBins-1 for values and slot `maxBins` for missing (NaN).
 */

/** Bin indices are stored as bytes, and slot `maxBins` (missing) must fit in one too. */
export const MAX_BINS_LIMIT = 255;

/**
 * Strictly increasing cut points. A non-missing value x falls in bin b = the number of thresholds
 * t with t < x: bin 0 holds x <= thresholds[0], the last used bin holds x > the last threshold.
 */
export interface BinEdges {
  readonly thresholds: Float64Array;
}

/** The histogram slot that holds missing values, by the layout convention above. */
export function missingBin(maxBins: number): number {
  assertMaxBins(maxBins);
  return maxBins;
}

/**
 * Fits thresholds on the non-missing values at `rows` (undefined = every row). With at most
 * `maxBins` distinct values, the thresholds are the midpoints between consecutive distinct values;
 * otherwise they are the quantiles i/maxBins (i = 1..maxBins-1, linear interpolation as numpy's
 * default `percentile`), each moved to the midpoint between the largest distinct value at or below
 * it and the next distinct value, then de-duplicated. A column with no values or one distinct
 * value gets zero thresholds (one bin); whether that is an error is the caller's decision.
 */
export function fitBinEdges(values: ArrayLike<number>, rows: ArrayLike<number> | undefined, maxBins: number): BinEdges {
  assertMaxBins(maxBins);
  const sorted = nonMissingValues(values, rows).sort();
  const distinct = distinctOfSorted(sorted);
  if (distinct.length <= maxBins) return { thresholds: midpoints(distinct) };

  const thresholds: number[] = [];
  for (let i = 1; i < maxBins; i++) {
    const candidate = linearQuantile(sorted, i, maxBins);
    const below = lastIndexAtOrBelow(distinct, candidate);
    // A candidate at the maximum would leave the last bin empty: no cut there.
    if (below === distinct.length - 1) continue;
    const threshold = midpoint(distinct[below], distinct[below + 1]);
    // Candidates are non-decreasing, so duplicates are adjacent.
    if (thresholds.length === 0 || thresholds[thresholds.length - 1] !== threshold) thresholds.push(threshold);
  }
  return { thresholds: Float64Array.from(thresholds) };
}

/**
 * The bin of every value (binary search over the thresholds); NaN goes to `missingBin`, which must
 * lie above every value bin. ±Infinity is allowed here and lands in the first or last bin.
 */
export function binColumn(values: ArrayLike<number>, edges: BinEdges, missingBin: number): Uint8Array {
  const { thresholds } = edges;
  if (!Number.isInteger(missingBin) || missingBin > MAX_BINS_LIMIT || missingBin <= thresholds.length)
    throw new RangeError(
      `binColumn: the missing bin must be an integer in [${thresholds.length + 1}, ${MAX_BINS_LIMIT}] ` +
        `for ${thresholds.length} thresholds`,
    );
  const bins = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    bins[i] = Number.isNaN(x) ? missingBin : countBelow(thresholds, x);
  }
  return bins;
}

function assertMaxBins(maxBins: number): void {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS_LIMIT)
    throw new RangeError(`maxBins must be an integer in [2, ${MAX_BINS_LIMIT}]`);
}

/** The values at `rows` with NaN dropped; infinities are refused (they have no useful quantile). */
function nonMissingValues(values: ArrayLike<number>, rows: ArrayLike<number> | undefined): Float64Array {
  const count = rows === undefined ? values.length : rows.length;
  const out = new Float64Array(count);
  let kept = 0;
  for (let k = 0; k < count; k++) {
    let row = k;
    if (rows !== undefined) {
      row = rows[k];
      if (!Number.isInteger(row) || row < 0 || row >= values.length)
        throw new RangeError('fitBinEdges: a row index is outside the column');
    }
    const x = values[row];
    if (Number.isNaN(x)) continue;
    if (!Number.isFinite(x)) throw new RangeError('fitBinEdges: values must be finite numbers or NaN (missing)');
    out[kept++] = x;
  }
  return out.subarray(0, kept);
}

/** Distinct values of an ascending array (-0 and 0 count as one). */
function distinctOfSorted(sorted: Float64Array): Float64Array {
  const out = new Float64Array(sorted.length);
  let count = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (count === 0 || sorted[i] !== out[count - 1]) out[count++] = sorted[i];
  }
  return out.subarray(0, count);
}

function midpoints(distinct: Float64Array): Float64Array {
  const out = new Float64Array(Math.max(0, distinct.length - 1));
  for (let i = 0; i < out.length; i++) out[i] = midpoint(distinct[i], distinct[i + 1]);
  return out;
}

/**
 * A cut strictly below `hi` and at or above `lo`, so `lo` goes left and `hi` right. For adjacent
 * doubles the true midpoint is not representable and rounds to an end; `lo` is then the cut.
 */
function midpoint(lo: number, hi: number): number {
  let mid = (lo + hi) / 2;
  if (!Number.isFinite(mid)) mid = lo / 2 + hi / 2; // lo + hi overflowed
  return mid < hi ? mid : lo;
}

/**
 * numpy's default (`linear`) quantile at q = i/parts of ascending `sorted`. The position
 * i·(n-1)/parts is formed from integers so it is exact whenever the true position is an integer;
 * this matches numpy.quantile(v, i/parts), whereas numpy.percentile(v, 100·i/parts) can land one
 * ulp off such a position and so on the neighbouring data value.
 */
function linearQuantile(sorted: Float64Array, i: number, parts: number): number {
  const position = (i * (sorted.length - 1)) / parts;
  const lower = Math.floor(position);
  if (lower >= sorted.length - 1) return sorted[sorted.length - 1];
  const a = sorted[lower];
  const b = sorted[lower + 1];
  const t = position - lower;
  // numpy's _lerp: interpolate from the nearer end, so t = 1 gives b exactly.
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Index of the largest element <= x in ascending `distinct` (x is at least its first element). */
function lastIndexAtOrBelow(distinct: Float64Array, x: number): number {
  return countAtOrBelow(distinct, x) - 1;
}

function countAtOrBelow(ascending: Float64Array, x: number): number {
  let lo = 0;
  let hi = ascending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ascending[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of thresholds strictly below x, i.e. the bin of x. */
function countBelow(thresholds: Float64Array, x: number): number {
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (thresholds[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
