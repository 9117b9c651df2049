/**
 * Metrics for the targets beyond a binary label: a continuous target (RMSE, MAE, R², and the
 * mean squared error as the loss) and K classes (accuracy, macro-F1, one-vs-rest AUC per class
 * and their mean, cross-entropy). Like metrics.ts: pure, inputs checked at the door.
 */
import { rocAuc, LOG_LOSS_EPSILON } from './metrics';

export interface RegressionMetrics {
  readonly objective: 'regression';
  readonly rows: number;
  readonly rmse: number;
  readonly mae: number;
  /** 1 − SSE/SST against the split's own mean (scikit-learn's r2_score). */
  readonly r2: number;
  /** Mean squared error: the training loss, for divergence checks and early stopping. */
  readonly loss: number;
}

export interface MulticlassMetrics {
  readonly objective: 'multiclass';
  readonly rows: number;
  readonly accuracy: number;
  /** Unweighted mean of the per-class F1 scores (a class never predicted nor present counts 0). */
  readonly macroF1: number;
  /** One-vs-rest AUC of each class's probability (null for a class absent from the split, or alone in it). */
  readonly perClassAuc: (number | null)[];
  /** Mean of the per-class AUCs that exist. */
  readonly auc: number;
  /** Cross-entropy of the true class's probability. */
  readonly logLoss: number;
}

/** Metrics of `predictions` against `targets`, both in the target's own units. */
export function regressionMetrics(predictions: ArrayLike<number>, targets: ArrayLike<number>): RegressionMetrics {
  const n = targets.length;
  if (predictions.length !== n)
    throw new RangeError(`regressionMetrics: predictions has length ${predictions.length} but targets has ${n}`);
  if (n === 0) throw new RangeError('regressionMetrics: needs at least one row, got 0');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += targets[i] / n;
  let sse = 0;
  let sst = 0;
  let abs = 0;
  for (let i = 0; i < n; i++) {
    const e = predictions[i] - targets[i];
    if (Number.isNaN(e)) throw new RangeError(`regressionMetrics: prediction ${i} is NaN`);
    sse += e * e;
    abs += Math.abs(e);
    sst += (targets[i] - mean) ** 2;
  }
  return {
    objective: 'regression',
    rows: n,
    rmse: Math.sqrt(sse / n),
    mae: abs / n,
    // A split whose targets are all equal has no variance to explain: R² is 0 there, as for a constant model.
    r2: sst > 0 ? 1 - sse / sst : 0,
    loss: sse / n,
  };
}

/**
 * @param probabilities row-major, rows × classes, each row summing to 1
 * @param classes the true class number 0..classes-1 of each row
 */
export function multiclassMetrics(
  probabilities: ArrayLike<number>,
  classes: ArrayLike<number>,
  classCount: number,
): MulticlassMetrics {
  const n = classes.length;
  if (!Number.isInteger(classCount) || classCount < 2)
    throw new RangeError(`multiclassMetrics: classCount must be an integer >= 2, got ${classCount}`);
  if (probabilities.length !== n * classCount)
    throw new RangeError(
      `multiclassMetrics: probabilities has ${probabilities.length} values, expected ${n} rows x ${classCount} classes`,
    );
  if (n === 0) throw new RangeError('multiclassMetrics: needs at least one row, got 0');
  const tp = new Float64Array(classCount);
  const predicted = new Float64Array(classCount);
  const actual = new Float64Array(classCount);
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const y = classes[i];
    if (!Number.isInteger(y) || y < 0 || y >= classCount)
      throw new RangeError(`multiclassMetrics: class of row ${i} is not in 0..${classCount - 1}`);
    let best = 0;
    for (let k = 1; k < classCount; k++)
      if (probabilities[i * classCount + k] > probabilities[i * classCount + best]) best = k;
    predicted[best]++;
    actual[y]++;
    if (best === y) {
      correct++;
      tp[y]++;
    }
    loss -= Math.log(Math.max(probabilities[i * classCount + y], LOG_LOSS_EPSILON));
  }
  let f1Sum = 0;
  const perClassAuc: (number | null)[] = [];
  for (let k = 0; k < classCount; k++) {
    const denominator = predicted[k] + actual[k];
    f1Sum += denominator > 0 ? (2 * tp[k]) / denominator : 0;
    const present = actual[k] > 0 && actual[k] < n;
    perClassAuc.push(
      present
        ? rocAuc(
            Float64Array.from({ length: n }, (_, i) => probabilities[i * classCount + k]),
            Uint8Array.from({ length: n }, (_, i) => (classes[i] === k ? 1 : 0)),
          )
        : null,
    );
  }
  const aucs = perClassAuc.filter((a): a is number => a !== null);
  return {
    objective: 'multiclass',
    rows: n,
    accuracy: correct / n,
    macroF1: f1Sum / classCount,
    perClassAuc,
    auc: aucs.length ? aucs.reduce((s, a) => s + a, 0) / aucs.length : 0.5,
    logLoss: loss / n,
  };
}

/** One-vs-rest probabilities: each class's sigmoid, normalised to sum to 1 per row (row-major rows × K). */
export function oneVsRestProbabilities(logitsByClass: readonly ArrayLike<number>[]): Float64Array {
  const k = logitsByClass.length;
  const n = k ? logitsByClass[0].length : 0;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const p = 1 / (1 + Math.exp(-logitsByClass[c][i]));
      out[i * k + c] = p;
      sum += p;
    }
    for (let c = 0; c < k; c++) out[i * k + c] /= sum;
  }
  return out;
}

/** A continuous target standardised on the training rows, so the model's logits and residuals stay O(1). */
export class TargetScaler {
  private constructor(
    readonly mean: number,
    readonly deviation: number,
  ) {}

  static fit(targets: ArrayLike<number>, rows: ArrayLike<number>): TargetScaler {
    if (rows.length === 0) throw new RangeError('TargetScaler.fit: no training rows');
    let mean = 0;
    for (let k = 0; k < rows.length; k++) mean += targets[rows[k]] / rows.length;
    let variance = 0;
    for (let k = 0; k < rows.length; k++) variance += (targets[rows[k]] - mean) ** 2 / rows.length;
    return new TargetScaler(mean, Math.sqrt(variance) || 1);
  }

  static of(mean: number, deviation: number): TargetScaler {
    if (!Number.isFinite(mean) || !(deviation > 0)) throw new RangeError('TargetScaler: bad mean or deviation');
    return new TargetScaler(mean, deviation);
  }

  scale(targets: ArrayLike<number>): Float64Array {
    return Float64Array.from(targets, (y) => (y - this.mean) / this.deviation);
  }

  unscale(values: ArrayLike<number>): Float64Array {
    return Float64Array.from(values, (v) => v * this.deviation + this.mean);
  }
}
