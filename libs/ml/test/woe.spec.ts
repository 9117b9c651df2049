/** WOE/IV, statistics and bin merging against values written out as formulas. */
import {
  chiMerge,
  chiSquare,
  columnStatistics,
  equalWidthEdges,
  groupedEdges,
  mergeSmallBins,
  sumByGroup,
  woeTable,
  woeEncodeColumn,
  scorecardFactor,
  basePoints,
  featurePoints,
  scoreOfLogit,
} from '../src';

describe('woeTable', () => {
  it('computes ln((e/E)/(n/N)) and Σ (e/E − n/N)·WOE, with 0.5 for an empty count and 0 for an empty bin', () => {
    const t = woeTable([2, 0, 8, 0], [10, 10, 10, 0]);
    const E = 10;
    const N = 20;
    const w0 = Math.log(2 / E / (8 / N));
    const w1 = Math.log(0.5 / E / (10 / N));
    const w2 = Math.log(8 / E / (2 / N));
    expect(t.bins.map((b) => b.woe)).toEqual([w0, w1, w2, 0]);
    const iv = (2 / E - 8 / N) * w0 + (0.5 / E - 10 / N) * w1 + (8 / E - 2 / N) * w2;
    expect(t.iv).toBeCloseTo(iv, 12);
  });

  it('refuses one class and impossible counts', () => {
    expect(() => woeTable([0, 0], [3, 4])).toThrow(/one class/);
    expect(() => woeTable([5], [4])).toThrow(/bin 0 has 5 events of 4 rows/);
  });
});

describe('columnStatistics', () => {
  it('counts missing values apart and matches numpy quantiles', () => {
    const m = Float64Array.of(1, NaN, 3, 4, 4);
    const s = columnStatistics(m, 1, 0, 'x', [0, 1, 2, 3, 4], [0, 0.5, 0.9]);
    expect(s).toMatchObject({ count: 5, missing: 1, missingRate: 0.2, mean: 3, min: 1, max: 4, distinct: 3 });
    expect(s.std).toBeCloseTo(Math.sqrt((4 + 0 + 1 + 1) / 4), 12);
    // numpy.quantile([1, 3, 4, 4], [0, 0.5, 0.9]) = [1, 3.5, 4]
    expect(s.quantiles).toEqual({ '0': 1, '0.5': 3.5, '0.9': 4 });
  });

  it('gives nulls for an all-missing column', () => {
    const s = columnStatistics(Float64Array.of(NaN, NaN), 1, 0, 'x', [0, 1]);
    expect(s).toMatchObject({ missingRate: 1, mean: null, std: null, min: null, distinct: 0 });
  });
});

describe('bin merging', () => {
  it('cuts equal widths and none for a constant column', () => {
    expect(Array.from(equalWidthEdges([0, 10, NaN, 5], [0, 1, 2, 3], 4).thresholds)).toEqual([2.5, 5, 7.5]);
    expect(equalWidthEdges([3, 3], [0, 1], 4).thresholds).toHaveLength(0);
  });

  it('merges small bins into their smaller neighbour until all reach the minimum', () => {
    expect(Array.from(mergeSmallBins([50, 2, 40, 3, 60], 10))).toEqual([0, 1, 1, 1, 2]);
    expect(Array.from(mergeSmallBins([1, 2], 10))).toEqual([0, 0]);
  });

  it('chi-merges the pair with the closest event rates, and enforces a monotonic trend', () => {
    // Rates 0.1, 0.12, 0.5, 0.3: the first two are closest.
    const events = [10, 12, 50, 30];
    const rows = [100, 100, 100, 100];
    expect(Array.from(chiMerge(events, rows, 3, false))).toEqual([0, 0, 1, 2]);
    // Rising overall (0.3 > 0.1), but 0.5 → 0.3 falls: the two merge.
    expect(Array.from(chiMerge(events, rows, 4, true))).toEqual([0, 1, 2, 2]);
    expect(chiSquare({ rows: 100, events: 10 }, { rows: 100, events: 10 })).toBe(0);
    const groups = chiMerge(events, rows, 3, false);
    expect(sumByGroup(events, groups)).toEqual([22, 50, 30]);
    expect(Array.from(groupedEdges({ thresholds: Float64Array.of(1, 2, 3) }, groups).thresholds)).toEqual([2, 3]);
  });
});

describe('woeEncodeColumn and scorecard points', () => {
  it('maps values to their bin WOE, missing to the last', () => {
    const enc = woeEncodeColumn([0, 1, 1.5, 9, NaN], [1, 2], [-1, 0.5, 2, 7]);
    expect(Array.from(enc)).toEqual([-1, -1, 0.5, 2, 7]);
  });

  it('makes the points of an applicant add up to offset − factor·logit', () => {
    const scale = { baseScore: 600, baseOdds: 50, pdo: 20 };
    const factor = 20 / Math.LN2;
    expect(scorecardFactor(scale)).toEqual({ factor, offset: 600 - factor * Math.log(50) });
    const features = [
      { woe: [-0.4, 0.1, 0.9], weight: 0.8, mean: 0.05, deviation: 0.5, bin: 2 },
      { woe: [0.3, -0.2], weight: -0.3, mean: -0.1, deviation: 0.2, bin: 0 },
    ];
    const b = -1.1;
    const logit = b + features.reduce((s, f) => s + (f.weight * (f.woe[f.bin] - f.mean)) / f.deviation, 0);
    const score =
      basePoints(b, scale) +
      features.reduce((s, f) => s + featurePoints(f.woe, f.weight, f.mean, f.deviation, scale)[f.bin], 0);
    expect(Math.abs(score - scoreOfLogit(logit, scale))).toBeLessThan(1e-9);
    // Event odds 1:50 score the base score; halving them adds PDO points.
    expect(scoreOfLogit(Math.log(1 / 50), scale)).toBeCloseTo(600, 9);
    expect(scoreOfLogit(Math.log(1 / 100), scale)).toBeCloseTo(620, 9);
  });
});
