/**
 * The pieces of (split) logistic regression that every party and the plaintext reference share,
 * so the federated model and its reference run literally the same arithmetic.
 *
 * Residual: with labels y in {0, 1} and logit u, the loss gradient is (sigmoid(u) - y)·x. Under
 * HE we use the first-order Taylor expansion of the sigmoid at 0 (Hardy et al. 2017):
 *   sigmoid(u) ≈ 1/2 + u/4,   residual d = u/4 + 1/2 - y,
 * which needs only additions and plaintext products on ciphertexts.
 *
 * `sigmoid: 'cubic'` uses the least-squares cubic on [-8, 8] instead (Kim et al. 2018):
 *   sigmoid(u) ≈ 1/2 + a·u + b·u³, a = 0.15012, b = -0.001593,
 * closer over the range logits reach once features are winsorised; it costs ciphertext products.
 */
import type { Objective } from '@vfl/data';
import { DEFAULT_VALIDATION_FRACTION } from './batch-schedule';
export type OptimizerName = 'sgd' | 'adam';
export type SigmoidApproximation = 'taylor' | 'cubic';

export const CUBIC_SIGMOID = Object.freeze({ a: 0.15012, b: -0.001593 });

export interface LrHyperparameters {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** L2 penalty on all weights but the intercept. */
  readonly l2: number;
  readonly optimizer: OptimizerName;
  readonly seed: number;
  readonly validationFraction: number;
  /**
   * Standardised values are clipped to [-clipSigma, clipSigma] (winsorised) by each party on its
   * own columns; 0 keeps them as they are. Heavy tails (default credit has values past 30σ) throw
   * logits far outside the range where the sigmoid's Taylor expansion holds.
   */
  readonly clipSigma?: number;
  /** The polynomial standing in for the sigmoid under encryption (default 'taylor'). */
  readonly sigmoid?: SigmoidApproximation;
  /** L1 penalty on all weights but the intercept (a subgradient step). */
  readonly l1?: number;
  /** Learning rate per epoch: constant, cosine to zero over the epochs, or times decayRate each epoch. */
  readonly schedule?: LearningRateSchedule;
  readonly decayRate?: number;
  /**
   * Weight of a positive row in the loss (negatives weigh 1); > 1 counters rare defaults. "balanced":
   * negatives / positives among the training rows, worked out where the labels are. Taylor sigmoid only.
   */
  readonly positiveWeight?: number | 'balanced';
  /** Stop when the validation metric has not improved by minDelta for `patience` epochs, and keep the best epoch's model. */
  readonly earlyStopping?: EarlyStopping;
  /**
   * What the model predicts (default `binary`): `regression` fits a linear model to a continuous
   * target (standardised on the training rows) under squared loss, residual d = u - y;
   * `multiclass` trains one binary head per class (one-vs-rest) on the same batches.
   */
  readonly objective?: Objective;
}

export type LearningRateSchedule = 'constant' | 'cosine' | 'exponential';

export interface EarlyStopping {
  readonly metric: 'auc' | 'loss';
  readonly patience: number;
  readonly minDelta?: number;
}

/** The learning rate of epoch `epoch` (0-based): every party computes the same one. */
export function scheduledLearningRate(
  hp: Pick<LrHyperparameters, 'learningRate' | 'schedule' | 'decayRate' | 'epochs'>,
  epoch: number,
): number {
  switch (hp.schedule ?? 'constant') {
    case 'cosine':
      return hp.learningRate * 0.5 * (1 + Math.cos((Math.PI * epoch) / Math.max(1, hp.epochs)));
    case 'exponential':
      return hp.learningRate * (hp.decayRate ?? 0.9) ** epoch;
    default:
      return hp.learningRate;
  }
}

export const DEFAULT_LR_HYPERPARAMETERS: LrHyperparameters = Object.freeze({
  epochs: 10,
  batchSize: 1024,
  learningRate: 0.02,
  l2: 0.001,
  optimizer: 'adam',
  seed: 42,
  validationFraction: DEFAULT_VALIDATION_FRACTION,
  clipSigma: 3,
  sigmoid: 'taylor',
});

export function taylorResidual(logit: number, label: number): number {
  return logit / 4 + 0.5 - label;
}

export function cubicResidual(logit: number, label: number): number {
  return 0.5 + CUBIC_SIGMOID.a * logit + CUBIC_SIGMOID.b * logit ** 3 - label;
}

/** Squared loss ½(u - y)²: its gradient in u is the residual itself, exact under encryption (no approximation). */
export function squaredLossResidual(prediction: number, target: number): number {
  return prediction - target;
}

/** The residual the protocol computes under encryption, for the plaintext reference and baseline. */
export function approximateResidual(
  kind: SigmoidApproximation | undefined,
  objective: Objective = 'binary',
): (logit: number, label: number) => number {
  if (objective === 'regression') return squaredLossResidual;
  return kind === 'cubic' ? cubicResidual : taylorResidual;
}

/** A multiclass head's labels: 1 where the row's class is `head`, else 0 (one-vs-rest). */
export function headLabels(classes: ArrayLike<number>, head: number): Uint8Array {
  return Uint8Array.from({ length: classes.length }, (_, i) => (classes[i] === head ? 1 : 0));
}

export interface OptimizerState {
  readonly step: number;
  readonly m: readonly number[];
  readonly v: readonly number[];
}

/** Per-party optimizer over that party's own weights; coordinate-wise, so splitting it is exact. */
export class LrOptimizer {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private step = 0;

  constructor(
    private readonly hp: Pick<LrHyperparameters, 'learningRate' | 'l2' | 'optimizer'> &
      Partial<Pick<LrHyperparameters, 'l1' | 'schedule' | 'decayRate' | 'epochs'>>,
    size: number,
    /** Index of the intercept weight (not penalised), or -1. */
    private readonly interceptIndex = -1,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Adam's moments and step count: with the weights, everything a resumed job needs to continue exactly. */
  state(): OptimizerState {
    return { step: this.step, m: Array.from(this.m), v: Array.from(this.v) };
  }

  restore(state: OptimizerState): void {
    if (
      !Number.isInteger(state?.step) ||
      state.step < 0 ||
      state.m?.length !== this.m.length ||
      state.v?.length !== this.v.length
    ) {
      throw new RangeError(`optimizer state for ${this.m.length} weights expected`);
    }
    this.step = state.step;
    this.m.set(state.m);
    this.v.set(state.v);
  }

  /** Applies one step of epoch `epoch` in place. `dataGradient` is the mean gradient of the batch loss. */
  apply(weights: Float64Array, dataGradient: ArrayLike<number>, epoch = 0): void {
    if (dataGradient.length !== weights.length) {
      throw new RangeError(`gradient has ${dataGradient.length} entries, weights have ${weights.length}`);
    }
    this.step++;
    const { l2 } = this.hp;
    const l1 = this.hp.l1 ?? 0;
    const lr = scheduledLearningRate({ epochs: 1, ...this.hp }, epoch);
    for (let j = 0; j < weights.length; j++) {
      const penalty = j === this.interceptIndex ? 0 : l2 * weights[j] + l1 * Math.sign(weights[j]);
      const g = dataGradient[j] + penalty;
      if (!Number.isFinite(g)) throw new RangeError(`gradient entry ${j} is not finite (${g}): training diverged`);
      if (this.hp.optimizer === 'sgd') {
        weights[j] -= lr * g;
      } else {
        this.m[j] = 0.9 * this.m[j] + 0.1 * g;
        this.v[j] = 0.999 * this.v[j] + 0.001 * g * g;
        const mHat = this.m[j] / (1 - 0.9 ** this.step);
        const vHat = this.v[j] / (1 - 0.999 ** this.step);
        weights[j] -= (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
      }
    }
  }
}

/** u = X·w for the given rows of a row-major matrix (Float64, exact for the reference). */
export function partialLogits(
  matrix: Float64Array,
  columns: number,
  weights: Float64Array,
  rows: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const base = rows[k] * columns;
    let s = 0;
    for (let j = 0; j < columns; j++) s += matrix[base + j] * weights[j];
    out[k] = s;
  }
  return out;
}

/** Appends a constant-1 column (the intercept lives with the label party). */
export function withIntercept(matrix: Float64Array, columns: number): Float64Array {
  const rows = matrix.length / columns;
  const out = new Float64Array(rows * (columns + 1));
  for (let i = 0; i < rows; i++) {
    out.set(matrix.subarray(i * columns, (i + 1) * columns), i * (columns + 1));
    out[i * (columns + 1) + columns] = 1;
  }
  return out;
}

/** Whether rows are weighted at all (what every party's scale choice depends on, labels or not). */
export function isRowWeighted(hp: Pick<LrHyperparameters, 'positiveWeight'>): boolean {
  return hp.positiveWeight === 'balanced' || (hp.positiveWeight ?? 1) !== 1;
}

/**
 * The weight of a positive row: the number given, or for "balanced" negatives / positives among
 * `trainRows` (scikit-learn's class_weight="balanced", up to a common factor).
 * @throws RangeError when "balanced" meets a training split without both classes.
 */
export function resolvePositiveWeight(
  hp: Pick<LrHyperparameters, 'positiveWeight'>,
  labels: ArrayLike<number>,
  trainRows: ArrayLike<number>,
): number {
  if (hp.positiveWeight !== 'balanced') return hp.positiveWeight ?? 1;
  let positives = 0;
  for (let k = 0; k < trainRows.length; k++) positives += labels[trainRows[k]] === 1 ? 1 : 0;
  const negatives = trainRows.length - positives;
  if (positives === 0 || negatives === 0)
    throw new RangeError(
      `positiveWeight "balanced" needs both classes among the training rows (${positives} positive of ${trainRows.length})`,
    );
  return negatives / positives;
}
