/**
 * DeLong's test for two correlated AUCs: two models scored on the same rows (the federated model
 * and the label party's own, on the validation rows). The variance of the difference comes from
 * each row's structural components (DeLong, DeLong & Clarke-Pearson 1988), computed from midranks
 * in O(n log n) (Sun & Xu 2014) rather than from all positive-negative pairs.
 */

export interface PairedAucComparison {
  readonly aucA: number;
  readonly aucB: number;
  /** aucA - aucB. */
  readonly difference: number;
  readonly standardError: number;
  /** difference / standardError (0 when both are 0). */
  readonly z: number;
  /** Two-sided, under the normal approximation. */
  readonly pValue: number;
  /** The 95% interval of the difference. */
  readonly interval95: readonly [number, number];
  /** The variance of aucA alone. */
  readonly varianceA: number;
  readonly positives: number;
  readonly negatives: number;
}

const Z_975 = 1.959963984540054;

/**
 * @param scoresA the first model's scores
 * @param scoresB the second model's scores, on the same rows
 * @param labels 0/1 per row
 * @throws {RangeError} on lengths that differ, or fewer than two positives or two negatives
 */
export function delongPairedAuc(
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
  labels: ArrayLike<number>,
): PairedAucComparison {
  const n = labels.length;
  if (scoresA.length !== n || scoresB.length !== n)
    throw new RangeError(`delongPairedAuc: ${scoresA.length} and ${scoresB.length} scores for ${n} labels`);
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < n; i++) (labels[i] === 1 ? positives : negatives).push(i);
  const m = positives.length;
  const k = negatives.length;
  if (m < 2 || k < 2)
    throw new RangeError(`delongPairedAuc needs two rows of each class, got ${m} positive and ${k} negative`);
  const a = components(scoresA, positives, negatives);
  const b = components(scoresB, positives, negatives);
  const s10 = covariance(a.v10, b.v10);
  const s01 = covariance(a.v01, b.v01);
  const variance = Math.max(0, (s10.aa + s10.bb - 2 * s10.ab) / m + (s01.aa + s01.bb - 2 * s01.ab) / k);
  const standardError = Math.sqrt(variance);
  const difference = a.auc - b.auc;
  const z = standardError > 0 ? difference / standardError : 0;
  return {
    aucA: a.auc,
    aucB: b.auc,
    difference,
    standardError,
    z,
    pValue: standardError > 0 ? erfc(Math.abs(z) / Math.SQRT2) : difference === 0 ? 1 : 0,
    interval95: [difference - Z_975 * standardError, difference + Z_975 * standardError],
    varianceA: s10.aa / m + s01.aa / k,
    positives: m,
    negatives: k,
  };
}

/** V10 (per positive) and V01 (per negative) from midranks: ties count one half. */
function components(
  scores: ArrayLike<number>,
  positives: number[],
  negatives: number[],
): { auc: number; v10: Float64Array; v01: Float64Array } {
  const x = positives.map((i) => scores[i]);
  const y = negatives.map((i) => scores[i]);
  const rx = midranks(x);
  const ry = midranks(y);
  const rz = midranks([...x, ...y]);
  const m = x.length;
  const k = y.length;
  const v10 = Float64Array.from(x, (_, i) => (rz[i] - rx[i]) / k);
  const v01 = Float64Array.from(y, (_, j) => 1 - (rz[m + j] - ry[j]) / m);
  let auc = 0;
  for (const v of v10) auc += v;
  return { auc: auc / m, v10, v01 };
}

/** 1-based ranks, ties given their mean rank. */
function midranks(values: number[]): Float64Array {
  const order = values.map((_, i) => i).sort((p, q) => values[p] - values[q]);
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = rank;
    i = j + 1;
  }
  return ranks;
}

function covariance(u: Float64Array, w: Float64Array): { aa: number; bb: number; ab: number } {
  const n = u.length;
  let mu = 0;
  let mw = 0;
  for (let i = 0; i < n; i++) {
    mu += u[i];
    mw += w[i];
  }
  mu /= n;
  mw /= n;
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let i = 0; i < n; i++) {
    aa += (u[i] - mu) ** 2;
    bb += (w[i] - mw) ** 2;
    ab += (u[i] - mu) * (w[i] - mw);
  }
  return { aa: aa / (n - 1), bb: bb / (n - 1), ab: ab / (n - 1) };
}

/**
 * The complementary error function, by W. J. Cody's rational approximations (Math. Comp. 23, 1969),
 * relative error below 1e-15 where it matters here.
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.5) return 1 - erfSmall(x);
  if (x < 4) {
    const p = [
      0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707,
      2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
    ];
    const q = [
      15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597,
      4362.619090143247, 3439.3676741437216, 1230.3393548037495,
    ];
    let num = p[8] * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + p[i]) * x;
      den = (den + q[i]) * x;
    }
    return Math.exp(-x * x) * ((num + p[7]) / (den + q[7]));
  }
  const p = [
    0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298378,
    0.016315387137302097,
  ];
  const q = [2.568520192289822, 1.8729528499234673, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918];
  const z = 1 / (x * x);
  let num = p[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + p[i]) * z;
    den = (den + q[i]) * z;
  }
  const r = (z * (num + p[4])) / (den + q[4]);
  return (Math.exp(-x * x) / x) * (1 / Math.sqrt(Math.PI) - r);
}

function erfSmall(x: number): number {
  const a = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
  const b = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
  const z = x * x;
  let num = a[4] * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + a[i]) * z;
    den = (den + b[i]) * z;
  }
  return (x * (num + a[3])) / (den + b[3]);
}
