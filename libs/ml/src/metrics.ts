/**
 * Risk-model evaluation metrics for binary classifiers: ROC AUC, KS, confusion
 * matrix, gain/lift table, population stability index, log loss, and the ROC
 * and KS curves (downsampled, for plotting).
 *
 * Pure TypeScript, no framework dependencies. Every export validates its inputs
 * at the door and throws a RangeError naming the offending argument, index or
 * lengths, so a bad batch fails loudly instead of producing a plausible number.
 * Labels are 0 (negative) or 1 (positive); a higher score means "more positive".
 */

/** Probability floor used by {@link logLoss}: the probability of the true class is clipped to [1e-15, 1]. */
export const LOG_LOSS_EPSILON = 1e-15;

/** Share used by {@link populationStabilityIndex} in place of an empty bin's zero share. */
export const PSI_EPSILON = 1e-6;

/** Confusion matrix at a fixed decision threshold (a row is predicted 1 when score >= threshold). */
export interface ConfusionMatrix {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** tp / (tp + fp); 0 when nothing is predicted positive. */
  precision: number;
  /** tp / (tp + fn); 0 when there are no positives. */
  recall: number;
  /** (tp + tn) / rows. */
  accuracy: number;
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  f1: number;
}

/** One row of a gain/lift table; bins are ordered from the highest scores down. */
export interface GainLiftRow {
  /** 1-based bin number; bin 1 holds the highest scores. */
  bin: number;
  /** Rows in this bin. */
  count: number;
  /** Positive labels in this bin. */
  positives: number;
  /** Share of all rows in bins 1..bin (cumulative population share). */
  cumulativeShare: number;
  /** Share of all positives captured in bins 1..bin. */
  gain: number;
  /** gain / cumulativeShare: how many times better than random targeting. */
  lift: number;
  /** Lowest score in this bin. */
  minScore: number;
  /** Highest score in this bin. */
  maxScore: number;
}

/** Summary metrics for predicted probabilities against 0/1 labels. */
export interface BinaryMetrics {
  auc: number;
  ks: number;
  logLoss: number;
  positives: number;
  rows: number;
}

interface ClassCounts {
  positives: number;
  negatives: number;
}

/** Throws unless `scores` and `labels` have the same length, no score is NaN and every label is 0 or 1. */
function validateScoresAndLabels(
  fn: string,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  scoreName = 'scores',
): ClassCounts {
  if (scores.length !== labels.length) {
    throw new RangeError(`${fn}: ${scoreName} has length ${scores.length} but labels has length ${labels.length}`);
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === 1) positives++;
    else if (label !== 0) {
      throw new RangeError(`${fn}: labels[${i}] must be 0 or 1, got ${String(label)}`);
    }
    const score = scores[i];
    if (typeof score !== 'number' || Number.isNaN(score)) {
      throw new RangeError(`${fn}: ${scoreName}[${i}] is ${String(score)}, expected a number`);
    }
  }
  return { positives, negatives: labels.length - positives };
}

/** Throws unless both classes are present. */
function requireBothClasses(metric: string, counts: ClassCounts): void {
  if (counts.positives > 0 && counts.negatives > 0) return;
  const got = counts.positives + counts.negatives === 0 ? 'no rows' : counts.positives === 0 ? 'only 0s' : 'only 1s';
  throw new RangeError(`${metric} needs both classes, got ${got}`);
}

/** Row indices sorted by score, descending; ties keep their input order. */
function indicesByScoreDescending(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order;
}

/**
 * Area under the ROC curve, computed as the Mann-Whitney U statistic: the
 * probability that a random positive scores higher than a random negative,
 * with a tied positive/negative pair counting 1/2. O(n log n).
 *
 * @param scores - model scores (any real numbers; only their order matters)
 * @param labels - 0/1 labels, same length as `scores`
 * @returns AUC in [0, 1]
 * @throws {RangeError} on a length mismatch, a NaN score, a label other than 0/1,
 *   or when only one class is present ("AUC needs both classes, got only 0s").
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const counts = validateScoresAndLabels('rocAuc', scores, labels);
  requireBothClasses('AUC', counts);
  const order = indicesByScoreDescending(scores);
  // Walk tie groups from the highest score down. For each group, every positive
  // beats all negatives seen in lower groups, i.e. all negatives not yet passed.
  let negativesAbove = 0;
  let wins = 0; // counts pair wins x2 so that ties (1/2) stay integral
  let i = 0;
  while (i < order.length) {
    const groupScore = scores[order[i]];
    let groupPositives = 0;
    let groupNegatives = 0;
    while (i < order.length && scores[order[i]] === groupScore) {
      if (labels[order[i]] === 1) groupPositives++;
      else groupNegatives++;
      i++;
    }
    const negativesBelow = counts.negatives - negativesAbove - groupNegatives;
    wins += 2 * groupPositives * negativesBelow + groupPositives * groupNegatives;
    negativesAbove += groupNegatives;
  }
  return wins / (2 * counts.positives * counts.negatives);
}

/**
 * Kolmogorov-Smirnov statistic: the largest TPR - FPR over decision thresholds,
 * where a row is predicted positive when its score is >= the threshold.
 * Thresholds are only placed between distinct scores, so tied rows are never
 * split. Includes the trivial threshold above every score, so the result is >= 0.
 *
 * @param scores - model scores
 * @param labels - 0/1 labels, same length as `scores`
 * @returns KS in [0, 1]
 * @throws {RangeError} on a length mismatch, a NaN score, a label other than 0/1,
 *   or when only one class is present.
 */
export function ksStatistic(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const counts = validateScoresAndLabels('ksStatistic', scores, labels);
  requireBothClasses('KS', counts);
  const order = indicesByScoreDescending(scores);
  let truePositives = 0;
  let falsePositives = 0;
  let best = 0;
  let i = 0;
  while (i < order.length) {
    const groupScore = scores[order[i]];
    while (i < order.length && scores[order[i]] === groupScore) {
      if (labels[order[i]] === 1) truePositives++;
      else falsePositives++;
      i++;
    }
    const gap = truePositives / counts.positives - falsePositives / counts.negatives;
    if (gap > best) best = gap;
  }
  return best;
}

/**
 * Confusion matrix and the derived rates at one threshold.
 *
 * @param scores - model scores (usually probabilities)
 * @param labels - 0/1 labels, same length as `scores`
 * @param threshold - a row is predicted 1 when score >= threshold (default 0.5)
 * @returns counts plus precision, recall, accuracy and F1 (each 0 when its denominator is 0)
 * @throws {RangeError} on a length mismatch, a NaN score, a label other than 0/1,
 *   a NaN threshold, or no rows.
 */
export function confusionMatrix(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number = 0.5,
): ConfusionMatrix {
  validateScoresAndLabels('confusionMatrix', scores, labels);
  if (Number.isNaN(threshold)) throw new RangeError('confusionMatrix: threshold is NaN');
  if (scores.length === 0) throw new RangeError('confusionMatrix: needs at least one row, got 0');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predictedPositive = scores[i] >= threshold;
    if (labels[i] === 1) {
      if (predictedPositive) tp++;
      else fn++;
    } else if (predictedPositive) fp++;
    else tn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    threshold,
    tp,
    fp,
    tn,
    fn,
    precision,
    recall,
    accuracy: (tp + tn) / scores.length,
    f1,
  };
}

/**
 * Gain/lift table: rows sorted by score descending (ties keep input order) and
 * cut into `bins` contiguous bins of near-equal size (bin b holds rows
 * floor((b-1)n/bins) .. floor(b*n/bins)-1 of the sorted order).
 *
 * @param scores - model scores
 * @param labels - 0/1 labels, same length as `scores`
 * @param bins - number of bins (default 10), an integer between 1 and the row count
 * @returns one row per bin, highest scores first
 * @throws {RangeError} on a length mismatch, a NaN score, a label other than 0/1,
 *   an invalid bin count, fewer rows than bins, or no positives.
 */
export function gainLiftTable(scores: ArrayLike<number>, labels: ArrayLike<number>, bins: number = 10): GainLiftRow[] {
  const counts = validateScoresAndLabels('gainLiftTable', scores, labels);
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`gainLiftTable: bins must be a positive integer, got ${bins}`);
  }
  const n = scores.length;
  if (n < bins) {
    throw new RangeError(`gainLiftTable: needs at least as many rows as bins, got ${n} rows for ${bins} bins`);
  }
  if (counts.positives === 0) {
    throw new RangeError('gainLiftTable: needs at least one positive label to compute gain');
  }
  const order = indicesByScoreDescending(scores);
  const table: GainLiftRow[] = [];
  let cumulativeRows = 0;
  let cumulativePositives = 0;
  for (let b = 0; b < bins; b++) {
    const start = Math.floor((b * n) / bins);
    const end = Math.floor(((b + 1) * n) / bins);
    let positives = 0;
    for (let k = start; k < end; k++) positives += labels[order[k]];
    cumulativeRows += end - start;
    cumulativePositives += positives;
    const cumulativeShare = cumulativeRows / n;
    const gain = cumulativePositives / counts.positives;
    table.push({
      bin: b + 1,
      count: end - start,
      positives,
      cumulativeShare,
      gain,
      lift: gain / cumulativeShare,
      minScore: scores[order[end - 1]],
      maxScore: scores[order[start]],
    });
  }
  return table;
}

/** One point of a ROC curve: the rates when every row scoring at or above some threshold is predicted positive. */
export interface RocPoint {
  /** False positive rate: share of negatives predicted positive. */
  fpr: number;
  /** True positive rate: share of positives predicted positive. */
  tpr: number;
}

/** One point of a KS curve: the top `share` of rows by score, and the shares of each class they hold. */
export interface KsPoint {
  /** Share of all rows with the highest scores (cumulative population share). */
  share: number;
  /** Share of all positives (label 1, "bad") among them; the ROC curve's TPR. */
  bad: number;
  /** Share of all negatives (label 0, "good") among them; the ROC curve's FPR. */
  good: number;
}

/** Default number of points of {@link rocCurve} and {@link ksCurve}: one per percentile, plus the origin. */
export const CURVE_POINTS = 101;

/**
 * Cumulative class shares at about `maxPoints` evenly spaced population quantiles, highest
 * scores first. A point is only placed after a whole tie group, so tied rows are never split,
 * and a tie group that crosses several quantiles yields one point. Starts at share 0 and ends
 * at share 1, so at most `maxPoints` points.
 */
function cumulativeRates(
  fn: string,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxPoints: number,
): KsPoint[] {
  const counts = validateScoresAndLabels(fn, scores, labels);
  requireBothClasses(fn, counts);
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new RangeError(`${fn}: maxPoints must be an integer >= 2, got ${maxPoints}`);
  }
  const n = scores.length;
  const order = indicesByScoreDescending(scores);
  const points: KsPoint[] = [{ share: 0, bad: 0, good: 0 }];
  let positives = 0;
  let passed = 0;
  let quantile = 1; // the next quantile, k of maxPoints - 1, that earns a point
  while (passed < n) {
    const groupScore = scores[order[passed]];
    while (passed < n && scores[order[passed]] === groupScore) positives += labels[order[passed++]];
    if (passed * (maxPoints - 1) < quantile * n) continue;
    points.push({
      share: passed / n,
      bad: positives / counts.positives,
      good: (passed - positives) / counts.negatives,
    });
    quantile = Math.floor((passed * (maxPoints - 1)) / n) + 1;
  }
  return points;
}

/**
 * ROC curve downsampled to at most `maxPoints` points at evenly spaced population quantiles
 * (thresholds between distinct scores only). Runs from (0, 0) to (1, 1); the largest
 * tpr - fpr on it is at most {@link ksStatistic}, equal when the maximising threshold is a point.
 *
 * @throws {RangeError} on invalid scores or labels, only one class, or maxPoints < 2.
 */
export function rocCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxPoints: number = CURVE_POINTS,
): RocPoint[] {
  return cumulativeRates('rocCurve', scores, labels, maxPoints).map((p) => ({ fpr: p.good, tpr: p.bad }));
}

/**
 * KS curve: cumulative shares of bad (1) and good (0) rows by score quantile, highest scores
 * first, at most `maxPoints` points from share 0 to share 1. KS is the widest gap bad - good.
 *
 * @throws {RangeError} on invalid scores or labels, only one class, or maxPoints < 2.
 */
export function ksCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxPoints: number = CURVE_POINTS,
): KsPoint[] {
  return cumulativeRates('ksCurve', scores, labels, maxPoints);
}

/** Throws unless `values` is non-empty and has no NaN. */
function validateSample(fn: string, name: string, values: ArrayLike<number>): void {
  if (values.length === 0) throw new RangeError(`${fn}: ${name} is empty`);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || Number.isNaN(value)) {
      throw new RangeError(`${fn}: ${name}[${i}] is ${String(value)}, expected a number`);
    }
  }
}

/** Number of entries of the ascending array `edges` that are <= value. */
function upperBound(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Population stability index of `actual` against the reference sample `expected`:
 * sum over bins of (a - e) * ln(a / e), where e and a are the shares of each
 * sample in the bin. Bin edges are the k/bins quantiles of `expected`
 * (edge k = k-th order statistic at index floor(k*n/bins)); bins are
 * left-closed, [edge_k, edge_k+1), with open ends. Duplicate edges (heavy ties)
 * are merged, so fewer bins may be used. An empty bin's share is replaced by 1e-6.
 * Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
 *
 * @param expected - reference (e.g. training-time) scores
 * @param actual - current scores; its length may differ from `expected`
 * @param bins - number of quantile bins (default 10), a positive integer
 * @returns PSI >= 0
 * @throws {RangeError} when either sample is empty or has a NaN, or on an invalid bin count.
 */
export function populationStabilityIndex(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  bins: number = 10,
): number {
  const fn = 'populationStabilityIndex';
  validateSample(fn, 'expected', expected);
  validateSample(fn, 'actual', actual);
  if (!Number.isInteger(bins) || bins < 1) {
    throw new RangeError(`${fn}: bins must be a positive integer, got ${bins}`);
  }
  const sorted = Float64Array.from(expected).sort();
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = sorted[Math.floor((k * sorted.length) / bins)];
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  const expectedCounts = new Float64Array(edges.length + 1);
  const actualCounts = new Float64Array(edges.length + 1);
  for (let i = 0; i < expected.length; i++) expectedCounts[upperBound(edges, expected[i])]++;
  for (let i = 0; i < actual.length; i++) actualCounts[upperBound(edges, actual[i])]++;
  let psi = 0;
  for (let b = 0; b < expectedCounts.length; b++) {
    const e = expectedCounts[b] === 0 ? PSI_EPSILON : expectedCounts[b] / expected.length;
    const a = actualCounts[b] === 0 ? PSI_EPSILON : actualCounts[b] / actual.length;
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/**
 * Mean binary cross-entropy, -mean(ln q) where q is the predicted probability of
 * the true class (p for label 1, 1 - p for label 0), clipped below at 1e-15 so a
 * confident wrong prediction costs at most -ln(1e-15) ~= 34.54.
 *
 * @param probabilities - predicted P(label = 1), each in [0, 1]
 * @param labels - 0/1 labels, same length as `probabilities`
 * @returns log loss >= 0
 * @throws {RangeError} on a length mismatch, a NaN or out-of-range probability,
 *   a label other than 0/1, or no rows.
 */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  validateScoresAndLabels('logLoss', probabilities, labels, 'probabilities');
  if (probabilities.length === 0) throw new RangeError('logLoss: needs at least one row, got 0');
  let total = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i];
    if (p < 0 || p > 1) {
      throw new RangeError(`logLoss: probabilities[${i}] is ${p}, expected a value in [0, 1]`);
    }
    const q = labels[i] === 1 ? p : 1 - p;
    total -= Math.log(Math.max(q, LOG_LOSS_EPSILON));
  }
  return total / probabilities.length;
}

/**
 * Logistic function 1 / (1 + e^-x), evaluated without overflow: for x < 0 it
 * uses e^x / (1 + e^x), so large |x| saturate to 0 or 1 instead of NaN.
 *
 * @param x - any number
 * @returns a value in [0, 1]; NaN for NaN input
 */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * AUC, KS and log loss of predicted probabilities in one call.
 *
 * @param scores - predicted P(label = 1), each in [0, 1]
 * @param labels - 0/1 labels, same length as `scores`
 * @returns auc, ks, logLoss, the number of positives and the number of rows
 * @throws {RangeError} on a length mismatch, a NaN or out-of-range probability,
 *   a label other than 0/1, or when only one class is present.
 */
export function binaryMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>): BinaryMetrics {
  const counts = validateScoresAndLabels('binaryMetrics', scores, labels);
  requireBothClasses('AUC', counts);
  return {
    auc: rocAuc(scores, labels),
    ks: ksStatistic(scores, labels),
    logLoss: logLoss(scores, labels),
    positives: counts.positives,
    rows: scores.length,
  };
}
