/**
 * Boosting objectives (first and second derivatives of the loss in the raw score) and the
 * fixed-point rounding of gradients. The label party computes g and h in the clear; the encrypted
 * protocol carries them as the integers of {@link toFixedPoint}, so the plaintext reference rounds
 * them the same way ({@link quantize}) and both sum exactly the same numbers.
 *
 * Array convention: `scores`, `labels` and `weights` are full-length, indexed by row id; g and h are
 * returned in the order of `rows` (g[k] belongs to row rows[k]). Weights default to 1.
 */

export type ObjectiveName = 'binary:logistic' | 'reg:squarederror';

export interface Objective {
  readonly name: ObjectiveName;
  /** The starting raw score for every row, fitted on the labels at `rows`. */
  baseScore(labels: ArrayLike<number>, rows: ArrayLike<number>, weights?: ArrayLike<number>): number;
  gradients(
    scores: ArrayLike<number>,
    labels: ArrayLike<number>,
    rows: ArrayLike<number>,
    weights?: ArrayLike<number>,
  ): { g: Float64Array; h: Float64Array };
  /** Raw score to prediction (probability for logistic, the value itself for squared error). */
  transform(score: number): number;
}

/** Fraction bits of the fixed-point gradients the encrypted protocol encodes. */
export const GRADIENT_FRACTION_BITS = 20;

/** Keeps the logistic base score finite when every label is the same. */
const BASE_PROBABILITY_CLAMP = 1e-6;

/** Floor on the logistic hessian so a saturated row never contributes exactly zero. */
const MIN_LOGISTIC_HESSIAN = 1e-16;

export function objective(name: ObjectiveName): Objective {
  switch (name) {
    case 'binary:logistic':
      return LOGISTIC;
    case 'reg:squarederror':
      return SQUARED_ERROR;
    default:
      throw new RangeError('unknown objective; expected binary:logistic or reg:squarederror');
  }
}

/** Rounds each value to the nearest multiple of 2^-fractionBits, in place; returns `values`. */
export function quantize(values: Float64Array, fractionBits: number = GRADIENT_FRACTION_BITS): Float64Array {
  const integers = toFixedPoint(values, fractionBits);
  const scale = 2 ** fractionBits;
  // Dividing by a power of two is exact, so this equals Math.round(v·2^b)/2^b.
  for (let i = 0; i < values.length; i++) values[i] = integers[i] / scale;
  return values;
}

/**
 * The integers Math.round(v·2^fractionBits), as doubles (a new array). Each must be a safe integer,
 * so sums of them stay exact while their magnitude stays below 2^53. -0 is returned as 0.
 */
export function toFixedPoint(values: Float64Array, fractionBits: number): Float64Array {
  if (!Number.isInteger(fractionBits) || fractionBits < 0 || fractionBits > 52)
    throw new RangeError('fractionBits must be an integer in [0, 52]');
  const scale = 2 ** fractionBits;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const n = Math.round(values[i] * scale) + 0; // + 0 turns -0 into 0
    if (!Number.isSafeInteger(n))
      throw new RangeError('toFixedPoint: a value is not finite or too large for exact fixed-point sums');
    out[i] = n;
  }
  return out;
}

const LOGISTIC: Objective = {
  name: 'binary:logistic',
  baseScore(labels, rows, weights) {
    assertBinaryLabels(labels, rows);
    const mean = weightedMeanLabel(labels, rows, weights);
    const p = Math.min(Math.max(mean, BASE_PROBABILITY_CLAMP), 1 - BASE_PROBABILITY_CLAMP);
    return Math.log(p / (1 - p));
  },
  gradients(scores, labels, rows, weights) {
    assertBinaryLabels(labels, rows);
    const g = new Float64Array(rows.length);
    const h = new Float64Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      const w = weightOf(weights, row);
      const p = sigmoid(scores[row]);
      g[k] = w * (p - labels[row]);
      h[k] = Math.max(w * p * (1 - p), MIN_LOGISTIC_HESSIAN);
    }
    return { g, h };
  },
  transform: sigmoid,
};

const SQUARED_ERROR: Objective = {
  name: 'reg:squarederror',
  baseScore(labels, rows, weights) {
    return weightedMeanLabel(labels, rows, weights);
  },
  gradients(scores, labels, rows, weights) {
    const g = new Float64Array(rows.length);
    const h = new Float64Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      const w = weightOf(weights, row);
      g[k] = w * (scores[row] - labels[row]);
      h[k] = w;
    }
    return { g, h };
  },
  transform: (score: number): number => score,
};

/** 1/(1+e^-x), written so that neither branch overflows. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function weightOf(weights: ArrayLike<number> | undefined, row: number): number {
  if (weights === undefined) return 1;
  const w = weights[row];
  if (!(w >= 0 && w < Infinity)) throw new RangeError('sample weights must be finite and non-negative');
  return w;
}

function weightedMeanLabel(labels: ArrayLike<number>, rows: ArrayLike<number>, weights?: ArrayLike<number>): number {
  let weighted = 0;
  let total = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    const w = weightOf(weights, row);
    weighted += w * labels[row];
    total += w;
  }
  if (!(total > 0)) throw new RangeError('baseScore needs at least one row with positive weight');
  const mean = weighted / total;
  if (!Number.isFinite(mean)) throw new RangeError('labels must be finite numbers');
  return mean;
}

function assertBinaryLabels(labels: ArrayLike<number>, rows: ArrayLike<number>): void {
  for (let k = 0; k < rows.length; k++) {
    const y = labels[rows[k]];
    if (y !== 0 && y !== 1)
      throw new RangeError('the binary:logistic objective needs labels 0 or 1; found another value');
  }
}
