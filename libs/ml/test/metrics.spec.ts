/**
 * Known-answer tests for the risk metrics. Expected values are worked out by
 * hand in the comments and written as formulas, not pasted decimals.
 */
import {
  binaryMetrics,
  confusionMatrix,
  gainLiftTable,
  ksCurve,
  ksStatistic,
  logLoss,
  populationStabilityIndex,
  rocAuc,
  rocCurve,
  sigmoid,
  type GainLiftRow,
} from '../src/metrics';

/** Small deterministic PRNG (mulberry32) so the randomized checks are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** O(n^2) reference: share of (positive, negative) pairs ranked correctly, ties = 1/2. */
function bruteForceAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

/** O(n^2) reference: max TPR - FPR over thresholds at every distinct score (and above all). */
function bruteForceKs(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const thresholds = Array.from(new Set(Array.from(scores)));
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i];
  const negatives = labels.length - positives;
  let best = 0;
  for (const t of thresholds) {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] >= t) {
        if (labels[i] === 1) tp++;
        else fp++;
      }
    }
    best = Math.max(best, tp / positives - fp / negatives);
  }
  return best;
}

describe('rocAuc', () => {
  it('matches a hand-computed 5-point example (AUC = 5/6)', () => {
    // positives: 0.35, 0.8, 0.7; negatives: 0.1, 0.4 -> 3 * 2 = 6 pairs.
    // 0.35 beats 0.1 but not 0.4 (1); 0.8 beats both (2); 0.7 beats both (2) -> 5 of 6.
    const scores = [0.1, 0.4, 0.35, 0.8, 0.7];
    const labels = [0, 0, 1, 1, 1];
    expect(rocAuc(scores, labels)).toBeCloseTo(5 / 6, 15);
  });

  it('counts a tied positive/negative pair as 1/2', () => {
    // positives: 0.5, 0.9; negatives: 0.5, 0.2 -> 4 pairs.
    // (0.5 vs 0.5) = 1/2, (0.5 vs 0.2) = 1, 0.9 beats both = 2 -> 3.5 / 4 = 7/8.
    expect(rocAuc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBeCloseTo(7 / 8, 15);
    // every score tied: every pair is a tie -> 1/2.
    expect(rocAuc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0])).toBe(0.5);
  });

  it('gives 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
  });

  it('only depends on the order of the scores', () => {
    const scores = [0.1, 0.4, 0.35, 0.8, 0.7];
    const labels = [0, 0, 1, 1, 1];
    const logits = scores.map((p) => Math.log(p / (1 - p)));
    expect(rocAuc(logits, labels)).toBeCloseTo(rocAuc(scores, labels), 15);
    expect(rocAuc(Float64Array.from(scores), Uint8Array.from(labels))).toBeCloseTo(5 / 6, 15);
  });

  it('agrees with brute-force pairwise AUC on 2000 random points with ties', () => {
    const random = mulberry32(20240601);
    const n = 2000;
    const scores = new Float64Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = random() < 0.3 ? 1 : 0;
      // informative but noisy score, rounded to 2 decimals so many ties occur
      const raw = 0.35 * labels[i] + 0.65 * random();
      scores[i] = Math.round(raw * 100) / 100;
    }
    const expected = bruteForceAuc(scores, labels);
    expect(expected).toBeGreaterThan(0.5);
    expect(rocAuc(scores, labels)).toBeCloseTo(expected, 12);
  });
});

describe('ksStatistic', () => {
  it('matches a hand-computed 6-point example (KS = 2/3)', () => {
    // sorted descending with labels 1 1 0 1 0 0; 3 positives, 3 negatives.
    // after 0.9: TPR 1/3, FPR 0   -> 1/3
    // after 0.8: TPR 2/3, FPR 0   -> 2/3  <- max
    // after 0.7: TPR 2/3, FPR 1/3 -> 1/3
    // after 0.6: TPR 1,   FPR 1/3 -> 2/3
    // after 0.5: TPR 1,   FPR 2/3 -> 1/3; after 0.4: 1, 1 -> 0
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    const labels = [1, 1, 0, 1, 0, 0];
    expect(ksStatistic(scores, labels)).toBeCloseTo(2 / 3, 15);
  });

  it('never places a threshold inside a group of tied scores', () => {
    // groups: {0.5: one positive, one negative}, {0.1: one positive, one negative}.
    // after 0.5: TPR 1/2, FPR 1/2 -> 0; after 0.1: 1, 1 -> 0. KS = 0.
    // Splitting the 0.5 tie after its positive row would wrongly give 1/2.
    expect(ksStatistic([0.5, 0.5, 0.1, 0.1], [1, 0, 1, 0])).toBe(0);
  });

  it('is 1 for a perfect separation and agrees with a brute-force scan', () => {
    expect(ksStatistic([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    const random = mulberry32(7);
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 300; i++) {
      const label = random() < 0.4 ? 1 : 0;
      labels.push(label);
      scores.push(Math.round((0.3 * label + 0.7 * random()) * 50) / 50);
    }
    expect(ksStatistic(scores, labels)).toBeCloseTo(bruteForceKs(scores, labels), 12);
  });
});

describe('rocCurve and ksCurve', () => {
  it('gives every tie-group point of a small example when maxPoints allows', () => {
    // the 6-point KS example above: 3 positives, 3 negatives, no ties; 7 points with the origin.
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    const labels = [1, 1, 0, 1, 0, 0];
    expect(ksCurve(scores, labels, 7)).toEqual([
      { share: 0, bad: 0, good: 0 },
      { share: 1 / 6, bad: 1 / 3, good: 0 },
      { share: 2 / 6, bad: 2 / 3, good: 0 },
      { share: 3 / 6, bad: 2 / 3, good: 1 / 3 },
      { share: 4 / 6, bad: 1, good: 1 / 3 },
      { share: 5 / 6, bad: 1, good: 2 / 3 },
      { share: 1, bad: 1, good: 1 },
    ]);
    expect(rocCurve(scores, labels, 7).map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0, 1 / 3],
      [0, 2 / 3],
      [1 / 3, 2 / 3],
      [1 / 3, 1],
      [2 / 3, 1],
      [1, 1],
    ]);
  });

  it('places points only between tie groups', () => {
    // one tie group {0.5: 1 positive, 1 negative} then {0.1: same}: the only cut is at share 1/2.
    expect(ksCurve([0.5, 0.5, 0.1, 0.1], [1, 0, 1, 0], 101)).toEqual([
      { share: 0, bad: 0, good: 0 },
      { share: 1 / 2, bad: 1 / 2, good: 1 / 2 },
      { share: 1, bad: 1, good: 1 },
    ]);
  });

  it('downsamples 10,000 rows to at most 101 points at percentile cuts, from (0,0) to (1,1), with the exact KS reachable', () => {
    const random = mulberry32(11);
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const label = random() < 0.3 ? 1 : 0;
      labels.push(label);
      scores.push(0.4 * label + 0.6 * random()); // continuous: no ties, so every percentile is a cut
    }
    const ks = ksCurve(scores, labels);
    expect(ks).toHaveLength(101);
    ks.forEach((p, k) => expect(p.share).toBeCloseTo(k / 100, 12));
    for (let k = 1; k < ks.length; k++) {
      expect(ks[k].bad).toBeGreaterThanOrEqual(ks[k - 1].bad);
      expect(ks[k].good).toBeGreaterThanOrEqual(ks[k - 1].good);
    }
    expect(ks.at(-1)).toEqual({ share: 1, bad: 1, good: 1 });
    const widestGap = Math.max(...ks.map((p) => p.bad - p.good));
    const exact = ksStatistic(scores, labels);
    expect(widestGap).toBeLessThanOrEqual(exact + 1e-12);
    expect(widestGap).toBeGreaterThan(exact - 0.02); // a percentile grid misses the best cut by little

    const roc = rocCurve(scores, labels);
    expect(roc).toHaveLength(101);
    expect(roc[0]).toEqual({ fpr: 0, tpr: 0 });
    expect(roc.at(-1)).toEqual({ fpr: 1, tpr: 1 });
    // trapezoids under the downsampled curve come close to the exact AUC
    let area = 0;
    for (let k = 1; k < roc.length; k++) area += ((roc[k].fpr - roc[k - 1].fpr) * (roc[k].tpr + roc[k - 1].tpr)) / 2;
    expect(area).toBeCloseTo(rocAuc(scores, labels), 2);
  });

  it('gives one point to a tie group that spans several quantiles', () => {
    // 8 of 10 rows tie at 0.5: quantiles 2..8 of 10 fall inside it, so one point at share 0.9.
    const scores = [0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1];
    const labels = [1, 1, 0, 1, 0, 1, 0, 0, 1, 0];
    const shares = ksCurve(scores, labels, 11).map((p) => p.share);
    expect(shares).toEqual([0, 0.1, 0.9, 1]);
  });

  it('rejects one-class input and fewer than 2 points', () => {
    expect(() => rocCurve([0.1, 0.2], [1, 1])).toThrow('rocCurve needs both classes, got only 1s');
    expect(() => ksCurve([0.1, 0.2], [0, 1], 1)).toThrow(/maxPoints must be an integer >= 2/);
  });
});

describe('confusionMatrix', () => {
  const scores = [0.9, 0.6, 0.5, 0.4, 0.2, 0.7];
  const labels = [1, 0, 1, 1, 0, 0];

  it('counts at the default threshold 0.5 (score >= threshold predicts 1)', () => {
    // predicted 1: 0.9 (label 1) tp, 0.6 (0) fp, 0.5 (1) tp, 0.7 (0) fp
    // predicted 0: 0.4 (1) fn, 0.2 (0) tn
    const cm = confusionMatrix(scores, labels);
    expect(cm).toMatchObject({ threshold: 0.5, tp: 2, fp: 2, tn: 1, fn: 1 });
    expect(cm.precision).toBeCloseTo(2 / 4, 15);
    expect(cm.recall).toBeCloseTo(2 / 3, 15);
    expect(cm.accuracy).toBeCloseTo(3 / 6, 15);
    // f1 = 2 * (1/2) * (2/3) / (1/2 + 2/3) = (2/3) / (7/6) = 4/7
    expect(cm.f1).toBeCloseTo(4 / 7, 15);
  });

  it('counts at a custom threshold', () => {
    // threshold 0.65 -> predicted 1: 0.9 tp, 0.7 fp; predicted 0: 0.6 tn, 0.5 fn, 0.4 fn, 0.2 tn
    const cm = confusionMatrix(scores, labels, 0.65);
    expect(cm).toMatchObject({ threshold: 0.65, tp: 1, fp: 1, tn: 2, fn: 2 });
    expect(cm.precision).toBeCloseTo(1 / 2, 15);
    expect(cm.recall).toBeCloseTo(1 / 3, 15);
    expect(cm.accuracy).toBeCloseTo(3 / 6, 15);
    // f1 = 2 * (1/2)(1/3) / (1/2 + 1/3) = (1/3) / (5/6) = 2/5
    expect(cm.f1).toBeCloseTo(2 / 5, 15);
  });

  it('reports 0 instead of NaN when nothing is predicted positive', () => {
    const cm = confusionMatrix(scores, labels, 2);
    expect(cm).toMatchObject({ tp: 0, fp: 0, tn: 3, fn: 3, precision: 0, recall: 0, f1: 0 });
    expect(cm.accuracy).toBeCloseTo(1 / 2, 15);
  });
});

describe('gainLiftTable', () => {
  // 10 rows with scores 0.1 .. 1.0; in descending score order the labels are
  // 1 1 | 0 1 | 0 0 | 1 0 | 0 0  (4 positives). Input order is shuffled on purpose.
  const descendingScores = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
  const descendingLabels = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0];
  const shuffle = [3, 7, 0, 9, 5, 1, 8, 2, 6, 4];
  const scores = shuffle.map((i) => descendingScores[i]);
  const labels = shuffle.map((i) => descendingLabels[i]);

  it('builds 5 bins of 2 rows on 10 rows', () => {
    const table = gainLiftTable(scores, labels, 5);
    const expected: GainLiftRow[] = [
      // gain = cumulative positives / 4; share = cumulative rows / 10; lift = gain / share
      {
        bin: 1,
        count: 2,
        positives: 2,
        cumulativeShare: 2 / 10,
        gain: 2 / 4,
        lift: 2 / 4 / (2 / 10),
        minScore: 0.9,
        maxScore: 1.0,
      },
      {
        bin: 2,
        count: 2,
        positives: 1,
        cumulativeShare: 4 / 10,
        gain: 3 / 4,
        lift: 3 / 4 / (4 / 10),
        minScore: 0.7,
        maxScore: 0.8,
      },
      {
        bin: 3,
        count: 2,
        positives: 0,
        cumulativeShare: 6 / 10,
        gain: 3 / 4,
        lift: 3 / 4 / (6 / 10),
        minScore: 0.5,
        maxScore: 0.6,
      },
      {
        bin: 4,
        count: 2,
        positives: 1,
        cumulativeShare: 8 / 10,
        gain: 4 / 4,
        lift: 4 / 4 / (8 / 10),
        minScore: 0.3,
        maxScore: 0.4,
      },
      { bin: 5, count: 2, positives: 0, cumulativeShare: 10 / 10, gain: 4 / 4, lift: 1, minScore: 0.1, maxScore: 0.2 },
    ];
    expect(table).toHaveLength(5);
    table.forEach((row, i) => {
      const want = expected[i];
      expect(row).toMatchObject({ bin: want.bin, count: want.count, positives: want.positives });
      expect(row.cumulativeShare).toBeCloseTo(want.cumulativeShare, 15);
      expect(row.gain).toBeCloseTo(want.gain, 15);
      expect(row.lift).toBeCloseTo(want.lift, 12);
      expect(row.minScore).toBe(want.minScore);
      expect(row.maxScore).toBe(want.maxScore);
    });
  });

  it('uses near-equal bins (3, 3, 4) when 10 rows do not divide into 3', () => {
    // bin b holds sorted rows floor((b-1)*10/3) .. floor(b*10/3)-1 -> [0,3), [3,6), [6,10)
    const table = gainLiftTable(scores, labels, 3);
    expect(table.map((r) => r.count)).toEqual([3, 3, 4]);
    expect(table.map((r) => r.positives)).toEqual([2, 1, 1]);
    expect(table[0].lift).toBeCloseTo(2 / 4 / (3 / 10), 12);
    expect(table[1].gain).toBeCloseTo(3 / 4, 15);
    expect(table[2].gain).toBe(1);
    expect(table[2].lift).toBe(1);
  });

  it('defaults to 10 bins, one row each on 10 rows', () => {
    const table = gainLiftTable(scores, labels);
    expect(table).toHaveLength(10);
    expect(table.map((r) => r.positives)).toEqual(descendingLabels);
    expect(table.map((r) => r.maxScore)).toEqual(descendingScores);
  });

  it('rejects more bins than rows and tables without positives', () => {
    expect(() => gainLiftTable([0.1, 0.2], [0, 1], 3)).toThrow(RangeError);
    expect(() => gainLiftTable([0.1, 0.2], [0, 0], 2)).toThrow(/at least one positive/);
    expect(() => gainLiftTable([0.1, 0.2], [0, 1], 1.5)).toThrow(RangeError);
  });
});

describe('populationStabilityIndex', () => {
  it('is 0 for identical distributions', () => {
    const random = mulberry32(99);
    const sample = Array.from({ length: 1000 }, () => random());
    expect(populationStabilityIndex(sample, sample)).toBe(0);
    expect(populationStabilityIndex(sample, [...sample].reverse())).toBe(0);
  });

  it('matches a hand-computed 2-bin example: 0.25 * ln 3', () => {
    // expected [1,2,3,4], 2 bins: edge = sorted[floor(4/2)] = 3 -> bins (-inf,3) and [3,inf).
    // e = [2/4, 2/4]; actual [1,3,4,5] -> a = [1/4, 3/4].
    // PSI = (1/4 - 1/2) ln(1/2) + (3/4 - 1/2) ln(3/2) = 1/4 ln 2 + 1/4 ln(3/2) = 1/4 ln 3
    expect(populationStabilityIndex([1, 2, 3, 4], [1, 3, 4, 5], 2)).toBeCloseTo(0.25 * Math.log(3), 15);
  });

  it('uses 1e-6 for an empty bin', () => {
    // actual [5,6] all in the upper bin: a = [1e-6, 1], e = [1/2, 1/2]
    const want = (1e-6 - 0.5) * Math.log(1e-6 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    expect(populationStabilityIndex([1, 2, 3, 4], [5, 6], 2)).toBeCloseTo(want, 12);
  });

  it('flags a shifted distribution as a major shift (> 0.25)', () => {
    const random = mulberry32(5);
    const expected = Array.from({ length: 5000 }, () => random());
    const shifted = Array.from({ length: 5000 }, () => random() + 0.3);
    const psi = populationStabilityIndex(expected, shifted);
    expect(psi).toBeGreaterThan(0.25);
    // a mild resample of the same distribution stays small
    const resampled = Array.from({ length: 5000 }, () => random());
    expect(populationStabilityIndex(expected, resampled)).toBeLessThan(0.1);
  });

  it('merges duplicate quantile edges instead of creating empty bins', () => {
    // 80% of the reference sample is the value 0 -> most decile edges coincide.
    const expected = [...Array<number>(80).fill(0), ...Array.from({ length: 20 }, (_, i) => i + 1)];
    expect(populationStabilityIndex(expected, expected)).toBe(0);
    expect(Number.isFinite(populationStabilityIndex(expected, [0, 0, 5, 25]))).toBe(true);
  });

  it('rejects empty samples and NaN values', () => {
    expect(() => populationStabilityIndex([], [1])).toThrow(/expected is empty/);
    expect(() => populationStabilityIndex([1, 2], [1, NaN])).toThrow(/actual\[1\]/);
  });
});

describe('logLoss', () => {
  it('matches a known value', () => {
    // -(ln 0.9 + ln(1 - 0.2)) / 2
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 15);
    // a coin flip costs ln 2 per row
    expect(logLoss([0.5, 0.5, 0.5], [1, 0, 1])).toBeCloseTo(Math.LN2, 15);
  });

  it('clips the probability of the true class at 1e-15', () => {
    // both rows are confidently wrong: each costs -ln(1e-15)
    expect(logLoss([0, 1], [1, 0])).toBeCloseTo(-Math.log(1e-15), 12);
    // confidently right costs 0
    expect(logLoss([1, 0], [1, 0])).toBe(0);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => logLoss([1.2], [1])).toThrow(/probabilities\[0\]/);
    expect(() => logLoss([-0.1], [0])).toThrow(RangeError);
  });
});

describe('sigmoid', () => {
  it('has the textbook values and symmetry', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(sigmoid(-2)).toBeCloseTo(1 - sigmoid(2), 15);
    expect(Math.log(sigmoid(1.5) / (1 - sigmoid(1.5)))).toBeCloseTo(1.5, 12);
  });

  it('saturates without overflow for large |x|', () => {
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    // e^-40 / (1 + e^-40) keeps full relative precision for tiny outputs
    expect(sigmoid(-40) / Math.exp(-40)).toBeCloseTo(1, 12);
    expect(Number.isNaN(sigmoid(NaN))).toBe(true);
  });
});

describe('binaryMetrics', () => {
  it('combines AUC, KS and log loss', () => {
    const scores = [0.1, 0.4, 0.35, 0.8, 0.7];
    const labels = [0, 0, 1, 1, 1];
    const m = binaryMetrics(scores, labels);
    expect(m.auc).toBeCloseTo(5 / 6, 15);
    // descending 0.8(1) 0.7(1) 0.4(0) 0.35(1) 0.1(0): TPR-FPR = 1/3, 2/3, 2/3-1/2, 1-1/2, 0 -> 2/3
    expect(m.ks).toBeCloseTo(2 / 3, 15);
    const want = -(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8) + Math.log(0.7)) / 5;
    expect(m.logLoss).toBeCloseTo(want, 15);
    expect(m.positives).toBe(3);
    expect(m.rows).toBe(5);
  });
});

describe('input validation', () => {
  it('names both lengths on a length mismatch', () => {
    expect(() => rocAuc([0.1, 0.2, 0.3, 0.4, 0.5], [0, 1, 0, 1])).toThrow(RangeError);
    expect(() => rocAuc([0.1, 0.2, 0.3, 0.4, 0.5], [0, 1, 0, 1])).toThrow(/length 5.*length 4/);
    expect(() => confusionMatrix([0.1], [0, 1])).toThrow(/length 1.*length 2/);
  });

  it('rejects labels other than 0 and 1', () => {
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(RangeError);
    expect(() => ksStatistic([0.1, 0.2], [0, 0.5])).toThrow(/labels\[1\]/);
    expect(() => logLoss([0.1, 0.2], [-1, 1])).toThrow(/labels\[0\]/);
  });

  it('names the index of a NaN score', () => {
    expect(() => rocAuc([0.1, 0.2, NaN], [0, 1, 0])).toThrow(RangeError);
    expect(() => rocAuc([0.1, 0.2, NaN], [0, 1, 0])).toThrow(/scores\[2\]/);
    expect(() => gainLiftTable([NaN, 0.2], [0, 1], 1)).toThrow(/scores\[0\]/);
  });

  it('requires both classes for AUC and KS', () => {
    expect(() => rocAuc([0.1, 0.2], [0, 0])).toThrow(new RangeError('AUC needs both classes, got only 0s'));
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/got only 1s/);
    expect(() => ksStatistic([0.1, 0.2], [1, 1])).toThrow(new RangeError('KS needs both classes, got only 1s'));
    expect(() => rocAuc([], [])).toThrow(/got no rows/);
    expect(() => binaryMetrics([0.1, 0.2], [0, 0])).toThrow(/both classes/);
  });

  it('rejects empty input and a NaN threshold for the confusion matrix', () => {
    expect(() => confusionMatrix([], [])).toThrow(RangeError);
    expect(() => confusionMatrix([0.1], [1], NaN)).toThrow(/threshold/);
    expect(() => logLoss([], [])).toThrow(RangeError);
  });
});
