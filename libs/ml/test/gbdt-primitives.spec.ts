import {
  binColumn,
  fitBinEdges,
  MAX_BINS_LIMIT,
  missingBin,
  buildHistogram,
  Histogram,
  histogramTotals,
  subtractHistogram,
  GRADIENT_FRACTION_BITS,
  objective,
  quantize,
  toFixedPoint,
  bestSplit,
  bestSplitAcross,
  leafWeight,
  SplitCandidate,
  SplitParams,
  splitGain,
} from '../src/gbdt';

const thresholdsOf = (values: number[], rows: number[] | undefined, maxBins: number): number[] =>
  Array.from(fitBinEdges(values, rows, maxBins).thresholds);

/** A histogram from per-feature slot lists [[G, H], ...] (maxBins + 1 slots each, the last = missing). */
function histogramOf(maxBins: number, features: [number, number][][]): Histogram {
  const sums = Float64Array.from(features.flatMap((slots) => slots.flat()));
  expect(sums.length).toBe(features.length * (maxBins + 1) * 2);
  return { features: features.length, maxBins, sums };
}

const PLAIN: SplitParams = { lambda: 0, gamma: 0, minChildWeight: 0 };

describe('fitBinEdges', () => {
  it('puts thresholds at midpoints between distinct values when they are few, ignoring NaN', () => {
    expect(thresholdsOf([3, 1, NaN, 2, 2, 3, 1], undefined, 4)).toEqual([1.5, 2.5]);
    // Only the training rows count: rows 0..2 hold 3, 1, NaN.
    expect(thresholdsOf([3, 1, NaN, 2, 2, 3, 1], [0, 1, 2], 4)).toEqual([2]);
    // Exactly maxBins distinct values is still the midpoint regime.
    expect(thresholdsOf([0, 10, 20, 30], undefined, 4)).toEqual([5, 15, 25]);
  });

  it('cuts at numpy-style quantiles moved to midpoints between distinct values when they are many', () => {
    // Sorted [1,2,2,2,3,4,5,6,7,8]: np.percentile at 25/50/75 = 2, 3.5, 5.75 -> midpoints 2.5, 3.5, 5.5.
    expect(thresholdsOf([8, 2, 1, 2, 3, 7, 4, 2, 6, 5], undefined, 4)).toEqual([2.5, 3.5, 5.5]);
    // Heavy ties: percentiles 0, 0, 1.5 -> 0.5, 0.5 (de-duplicated), 1.5.
    expect(thresholdsOf([0, 0, 0, 0, 0, NaN, 0, 0, 1, 2, 3, 4], undefined, 4)).toEqual([0.5, 1.5]);
    // Percentiles 4, 9, 9: a candidate at the maximum has no next value and makes no cut.
    expect(thresholdsOf([1, 2, 3, 4, 5, 9, 9, 9, 9, 9, 9, 9, 9], undefined, 4)).toEqual([4.5]);
  });

  it('gives one bin for an all-missing or constant column', () => {
    expect(thresholdsOf([NaN, NaN], undefined, 8)).toEqual([]);
    expect(thresholdsOf([], undefined, 8)).toEqual([]);
    expect(thresholdsOf([7, 7, NaN, 7], undefined, 8)).toEqual([]);
  });

  it('never uses more than maxBins bins, thresholds strictly increasing and never equal to a value', () => {
    const values = Array.from({ length: 1000 }, (_, i) => Math.floor((i * 7919) % 613) / 7);
    for (const maxBins of [2, 3, 16, MAX_BINS_LIMIT]) {
      const t = thresholdsOf(values, undefined, maxBins);
      expect(t.length + 1).toBeLessThanOrEqual(maxBins);
      for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1]);
      for (const x of t) expect(values).not.toContain(x);
    }
  });

  it('refuses infinities, bad maxBins and bad rows without echoing values', () => {
    expect(() => fitBinEdges([1, Infinity], undefined, 4)).toThrow(RangeError);
    expect(() => fitBinEdges([1, -Infinity], undefined, 4)).toThrow('must be finite numbers or NaN');
    for (const bad of [1, 256, 2.5, NaN]) expect(() => fitBinEdges([1, 2], undefined, bad)).toThrow(RangeError);
    expect(() => fitBinEdges([1, 2], [2], 4)).toThrow('row index is outside the column');
    expect(missingBin(32)).toBe(32);
    expect(() => missingBin(300)).toThrow(RangeError);
  });
});

describe('binColumn', () => {
  it('sends a value equal to a threshold left and NaN to the missing slot', () => {
    const edges = fitBinEdges([1, 2, 3], undefined, 4); // thresholds 1.5, 2.5
    const bins = binColumn([1, 1.5, 1.6, 2.5, 3, NaN, -Infinity, Infinity, 2.5000001], edges, missingBin(4));
    expect(Array.from(bins)).toEqual([0, 0, 1, 1, 2, 4, 0, 2, 2]);
  });

  it('refuses a missing slot that would collide with a value bin or overflow a byte', () => {
    const edges = { thresholds: Float64Array.from([1, 2]) };
    expect(() => binColumn([1], edges, 2)).toThrow(RangeError);
    expect(() => binColumn([1], edges, 256)).toThrow(RangeError);
    expect(Array.from(binColumn([NaN], edges, 3))).toEqual([3]);
  });
});

describe('objectives', () => {
  it('gives logistic g = ±0.5, h = 0.25 at score 0, weighted, in the order of rows', () => {
    const logistic = objective('binary:logistic');
    expect(logistic.name).toBe('binary:logistic');
    const { g, h } = logistic.gradients([0, 0], [0, 1], [0, 1]);
    expect(Array.from(g)).toEqual([0.5, -0.5]);
    expect(Array.from(h)).toEqual([0.25, 0.25]);
    const weighted = logistic.gradients([0, 0, 0], [0, 1, 0], [1, 0], [2, 3, 100]);
    expect(Array.from(weighted.g)).toEqual([-1.5, 1]);
    expect(Array.from(weighted.h)).toEqual([0.75, 0.5]);
    // log 3 -> p = 0.75: g = 0.75 - 1, h = 0.75 * 0.25.
    const at = logistic.gradients([Math.log(3)], [1], [0]);
    expect(at.g[0]).toBeCloseTo(-0.25, 15);
    expect(at.h[0]).toBeCloseTo(0.1875, 15);
    // Saturated: finite, hessian floored.
    const far = logistic.gradients([-1000, 1000], [0, 1], [0, 1]);
    expect(Array.from(far.g)).toEqual([0, 0]);
    expect(Array.from(far.h)).toEqual([1e-16, 1e-16]);
  });

  it('starts logistic at the log-odds of the weighted mean label, clamped', () => {
    const logistic = objective('binary:logistic');
    expect(logistic.baseScore([1, 1, 1, 0], [0, 1, 2, 3])).toBeCloseTo(Math.log(3), 14);
    expect(logistic.baseScore([1, 1, 1, 0], [0, 1, 2, 3], [1, 1, 1, 3])).toBe(0);
    expect(logistic.baseScore([1, 0, 0], [0])).toBeCloseTo(Math.log((1 - 1e-6) / 1e-6), 10);
    expect(logistic.baseScore([0, 1], [0])).toBeCloseTo(Math.log(1e-6 / (1 - 1e-6)), 10);
    expect(logistic.transform(0)).toBe(0.5);
    expect(logistic.transform(Math.log(3))).toBeCloseTo(0.75, 15);
    expect(logistic.transform(-1000)).toBe(0);
  });

  it('refuses labels other than 0 and 1 for logistic without echoing the value', () => {
    const logistic = objective('binary:logistic');
    const message = 'the binary:logistic objective needs labels 0 or 1; found another value';
    expect(() => logistic.gradients([0, 0], [0, 2], [0, 1])).toThrow(new RangeError(message));
    expect(() => logistic.baseScore([0.5], [0])).toThrow(message);
    // Rows not trained on are not checked.
    expect(() => logistic.baseScore([0, 2], [0])).not.toThrow();
  });

  it('gives squared error g = w(score - y), h = w, base = weighted mean, identity transform', () => {
    const squared = objective('reg:squarederror');
    const { g, h } = squared.gradients([1, 2], [3, 0], [0, 1], [2, 1]);
    expect(Array.from(g)).toEqual([-4, 2]);
    expect(Array.from(h)).toEqual([2, 1]);
    expect(Array.from(squared.gradients([1, 2], [3, 0], [1]).g)).toEqual([2]);
    expect(squared.baseScore([3, 0], [0, 1])).toBe(1.5);
    expect(squared.baseScore([3, 0], [0, 1], [2, 1])).toBe(2);
    expect(squared.transform(-3.25)).toBe(-3.25);
    expect(() => squared.baseScore([1], [0], [0])).toThrow('at least one row with positive weight');
    expect(() => squared.gradients([0], [1], [0], [-1])).toThrow('finite and non-negative');
  });
});

describe('fixed-point gradients', () => {
  it('rounds to the nearest multiple of 2^-bits in place', () => {
    const values = Float64Array.from([0.3, -0.3, 1, 0.03125, -0.03125]);
    // ×16: 4.8 -> 5, -4.8 -> -5, 16, 0.5 -> 1, -0.5 -> -0 (Math.round rounds halves up).
    expect(quantize(values, 4)).toBe(values);
    expect(Array.from(values)).toEqual([0.3125, -0.3125, 1, 0.0625, 0]);
    expect(Object.is(values[4], 0)).toBe(true);
    expect(GRADIENT_FRACTION_BITS).toBe(20);
    expect(quantize(Float64Array.from([0.1]))[0]).toBe(104858 / 1048576); // 0.1·2^20 = 104857.6
  });

  it('gives the integers the protocol encrypts, whose sums are exact', () => {
    expect(Array.from(toFixedPoint(Float64Array.from([0.3, -0.3, 1, -0.03125]), 4))).toEqual([5, -5, 16, 0]);
    const source = Float64Array.from([0.1, 0.2, 0.3]);
    const integers = toFixedPoint(source, 20);
    expect(Array.from(source)).toEqual([0.1, 0.2, 0.3]); // not in place
    expect(Array.from(integers)).toEqual([104858, 209715, 314573]);
    expect(() => toFixedPoint(Float64Array.from([NaN]), 20)).toThrow(RangeError);
    expect(() => toFixedPoint(Float64Array.from([1]), 53)).toThrow(RangeError);
  });
});

describe('histograms', () => {
  // 6 rows, 2 features, maxBins 3 (slot 3 = missing).
  const binned = [Uint8Array.from([0, 1, 1, 2, 3, 0]), Uint8Array.from([2, 2, 0, 3, 1, 0])];
  const g = [1, -2, 3, -4, 5, -6];
  const h = [1, 1, 2, 2, 3, 3];
  const all = [0, 1, 2, 3, 4, 5];
  const pick = (values: number[], rows: number[]): number[] => rows.map((r) => values[r]);

  it('sums g and h per feature and slot (hand-computed)', () => {
    const hist = buildHistogram(binned, all, g, h, 3);
    expect(hist.features).toBe(2);
    expect(hist.maxBins).toBe(3);
    // prettier-ignore
    expect(Array.from(hist.sums)).toEqual([
      -5, 4,  1, 3,  -4, 2,  5, 3, // feature 0: rows {0,5}, {1,2}, {3}, missing {4}
      -3, 5,  5, 3,  -1, 2, -4, 2, // feature 1: rows {2,5}, {4}, {0,1}, missing {3}
    ]);
    expect(histogramTotals(hist)).toEqual({ G: -3, H: 12 });
  });

  it('takes g[k], h[k] as belonging to rows[k], whatever the order', () => {
    const rows = [5, 3, 0];
    const hist = buildHistogram(binned, rows, pick(g, rows), pick(h, rows), 3);
    // prettier-ignore
    expect(Array.from(hist.sums)).toEqual([
      -5, 4,  0, 0,  -4, 2,  0, 0,
      -6, 3,  0, 0,   1, 1, -4, 2,
    ]);
  });

  it('gives the sibling exactly by subtraction', () => {
    const parent = buildHistogram(binned, all, g, h, 3);
    const leftRows = [0, 2, 4];
    const rightRows = [1, 3, 5];
    const left = buildHistogram(binned, leftRows, pick(g, leftRows), pick(h, leftRows), 3);
    const right = buildHistogram(binned, rightRows, pick(g, rightRows), pick(h, rightRows), 3);
    expect(subtractHistogram(parent, left)).toEqual(right);
    expect(subtractHistogram(parent, right)).toEqual(left);
  });

  it('refuses mismatched inputs and out-of-range bins', () => {
    expect(() => buildHistogram(binned, all, g.slice(1), h, 3)).toThrow(RangeError);
    expect(() => buildHistogram(binned, all, g, h, 2)).toThrow('bin or row out of range');
    expect(() => buildHistogram(binned, [6], [0], [1], 3)).toThrow('bin or row out of range');
    const other = buildHistogram(binned, all, g, h, 4);
    expect(() => subtractHistogram(buildHistogram(binned, all, g, h, 3), other)).toThrow('different shapes');
  });
});

describe('split gain and leaf weight', () => {
  it('match the formulas on hand values', () => {
    // λ = 1, γ = 0.1: ½[16/3 + 4/4 − 4/6] − 0.1 = 17/6 − 0.1
    expect(splitGain(-4, 2, 2, 3, { lambda: 1, gamma: 0.1, minChildWeight: 0 })).toBeCloseTo(17 / 6 - 0.1, 14);
    expect(leafWeight(-4, 3, 1)).toBe(1);
    expect(leafWeight(6, 2, 0)).toBe(-3);
  });
});

describe(bestSplit.name, () => {
  // maxBins 3: bin0 (G=-4,H=2), bin1 (4,2), bin2 empty, missing (-4,2). Totals (-4, 6).
  const withMissing = histogramOf(3, [
    [
      [-4, 2],
      [4, 2],
      [0, 0],
      [-4, 2],
    ],
  ]);

  it('sends missing left when that gains most', () => {
    // λ = 1: bin0/missing-left: ½[64/5 + 16/3 − 16/7] beats bin0/missing-right and bin1/missing-right, ½[16/3 − 16/7].
    const split = bestSplit(withMissing, { lambda: 1, gamma: 0, minChildWeight: 0 });
    expect(split).toEqual<SplitCandidate>({
      feature: 0,
      bin: 0,
      missingLeft: true,
      gain: expect.closeTo(0.5 * (64 / 5 + 16 / 3 - 16 / 7), 12),
      left: { G: -8, H: 4 },
      right: { G: 4, H: 2 },
    });
    // Every candidate has a child with H = 2, so minChildWeight 2.5 rules them all out.
    expect(bestSplit(withMissing, { lambda: 1, gamma: 0, minChildWeight: 2.5 })).toBeNull();
  });

  // maxBins 4: bin0 (-6,1), bin1 (2,3), bin2 (2,3), bin3 empty, no missing. Totals (-2, 7).
  const noMissing = histogramOf(4, [
    [
      [-6, 1],
      [2, 3],
      [2, 3],
      [0, 0],
      [0, 0],
    ],
  ]);

  it('lets minChildWeight rule out the best split', () => {
    // λ = 0: bin0: ½[36 + 16/6 − 4/7] ≈ 19.05; bin1: ½[16/4 + 4/3 − 4/7] ≈ 2.38; bin2 leaves the right empty.
    const best = bestSplit(noMissing, PLAIN);
    expect(best).toMatchObject({
      feature: 0,
      bin: 0,
      missingLeft: false,
      left: { G: -6, H: 1 },
      right: { G: 4, H: 6 },
    });
    expect(best?.gain).toBeCloseTo(0.5 * (36 + 16 / 6 - 4 / 7), 12);
    const constrained = bestSplit(noMissing, { lambda: 0, gamma: 0, minChildWeight: 2 });
    expect(constrained).toMatchObject({ feature: 0, bin: 1, missingLeft: false, left: { G: -4, H: 4 } });
    expect(constrained?.gain).toBeCloseTo(0.5 * (4 + 4 / 3 - 4 / 7), 12);
  });

  it('returns null when gamma leaves no positive gain, or nothing separates', () => {
    expect(bestSplit(noMissing, { lambda: 0, gamma: 20, minChildWeight: 0 })).toBeNull();
    expect(bestSplit(noMissing, { lambda: 0, gamma: 19, minChildWeight: 0 })?.gain).toBeCloseTo(
      0.5 * (36 + 16 / 6 - 4 / 7) - 19,
      12,
    );
    // All rows in one bin, no missing: no candidate.
    expect(
      bestSplit(
        histogramOf(2, [
          [
            [1, 1],
            [0, 0],
            [0, 0],
          ],
        ]),
        PLAIN,
      ),
    ).toBeNull();
    // Zero gradients: every gain is 0, not > 0.
    expect(
      bestSplit(
        histogramOf(2, [
          [
            [0, 1],
            [0, 1],
            [0, 1],
          ],
        ]),
        PLAIN,
      ),
    ).toBeNull();
  });

  it('breaks ties by lower feature, then lower bin, then missing right', () => {
    const feature: [number, number][] = [
      [-4, 2],
      [4, 2],
      [0, 0],
      [-4, 2],
    ];
    const twin = histogramOf(3, [feature, feature]);
    expect(bestSplit(twin, PLAIN)?.feature).toBe(0);
    expect(bestSplit(twin, PLAIN, [false, true])?.feature).toBe(1);
    expect(bestSplit(twin, PLAIN, [false, false])).toBeNull();
    // bin0 (-2,1), bin1 (2,1), missing (0,1): bin0 missing-right and missing-left both gain ½[4 + 2] = 3.
    const symmetric = histogramOf(2, [
      [
        [-2, 1],
        [2, 1],
        [0, 1],
      ],
    ]);
    expect(bestSplit(symmetric, PLAIN)).toEqual({
      feature: 0,
      bin: 0,
      missingLeft: false,
      gain: 3,
      left: { G: -2, H: 1 },
      right: { G: 2, H: 2 },
    });
  });

  it('across blocks, keeps the first block unless a later one is strictly better', () => {
    expect(bestSplitAcross([noMissing, noMissing], PLAIN)?.block).toBe(0);
    expect(bestSplitAcross([withMissing, noMissing], PLAIN)).toMatchObject({ block: 1, split: { bin: 0 } });
    expect(bestSplitAcross([noMissing, withMissing], PLAIN, [[false], undefined])?.block).toBe(1);
    expect(bestSplitAcross([noMissing], PLAIN, [[false]])).toBeNull();
    expect(bestSplitAcross([], PLAIN)).toBeNull();
  });
});

describe('bestSplit against brute force', () => {
  /** mulberry32: a small seeded generator so the property test is reproducible. */
  function generator(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /**
   * Every (feature, bin, missing side) in scan order, with sums taken straight from the rows; the
   * first strictly greatest positive gain wins. Partitions bestSplit does not form are left out:
   * no non-missing row on the left (its mirror is scanned), or missing-left when nothing is missing.
   */
  function bruteForce(
    binned: Uint8Array[],
    rows: number[],
    g: number[],
    h: number[],
    maxBins: number,
    params: SplitParams,
    mask: boolean[],
  ): SplitCandidate | null {
    let best: SplitCandidate | null = null;
    for (let f = 0; f < binned.length; f++) {
      if (!mask[f]) continue;
      const anyMissing = rows.some((r) => binned[f][r] === maxBins);
      for (let bin = 0; bin < maxBins; bin++) {
        for (const missingLeft of [false, true]) {
          if (missingLeft && !anyMissing) continue;
          const side = { L: { G: 0, H: 0, n: 0, nonMissing: 0 }, R: { G: 0, H: 0, n: 0, nonMissing: 0 } };
          rows.forEach((r, k) => {
            const b = binned[f][r];
            const s = (b === maxBins ? missingLeft : b <= bin) ? side.L : side.R;
            s.G += g[k];
            s.H += h[k];
            s.n++;
            if (b !== maxBins) s.nonMissing++;
          });
          const { L, R } = side;
          if (L.nonMissing === 0 || L.n === 0 || R.n === 0) continue;
          if (L.H < params.minChildWeight || R.H < params.minChildWeight) continue;
          const gain = splitGain(L.G, L.H, R.G, R.H, params);
          if (gain > (best?.gain ?? 0))
            best = { feature: f, bin, missingLeft, gain, left: { G: L.G, H: L.H }, right: { G: R.G, H: R.H } };
        }
      }
    }
    return best;
  }

  it('finds the same split as an exhaustive search on random small data', () => {
    const random = generator(20240601);
    let found = 0;
    for (let trial = 0; trial < 300; trial++) {
      const maxBins = 2 + Math.floor(random() * 6);
      const features = 1 + Math.floor(random() * 4);
      const rowCount = 1 + Math.floor(random() * 25);
      const binned = Array.from({ length: features }, () => {
        const missingRate = random() < 0.5 ? 0 : random() * 0.4;
        const usedBins = 1 + Math.floor(random() * maxBins); // leaves some bins empty
        return Uint8Array.from({ length: rowCount }, () =>
          random() < missingRate ? maxBins : Math.floor(random() * usedBins),
        );
      });
      const rows = Array.from({ length: rowCount }, (_, r) => r).filter(() => random() < 0.8);
      // Multiples of 1/1024 (as fixed-point gradients are), so every sum is exact in any order.
      const g = rows.map(() => (Math.floor(random() * 2001) - 1000) / 1024);
      const h = rows.map(() => (1 + Math.floor(random() * 1024)) / 1024);
      const params: SplitParams = {
        lambda: [0, 1, 0.5][trial % 3],
        gamma: random() < 0.3 ? random() * 0.5 : 0,
        minChildWeight: random() < 0.3 ? random() * 2 : 0,
      };
      const mask = Array.from({ length: features }, () => random() < 0.85);

      const hist = buildHistogram(binned, rows, g, h, maxBins);
      const expected = bruteForce(binned, rows, g, h, maxBins, params, mask);
      expect(bestSplit(hist, params, mask)).toEqual(expected);
      if (expected !== null) found++;
    }
    // The generator must exercise both outcomes.
    expect(found).toBeGreaterThan(50);
    expect(found).toBeLessThan(300);
  });
});
