/**
 * The plaintext reference for split logistic regression: the exact algorithm the federated
 * protocol runs (same split, same batches, same sigmoid approximation, same per-party optimizers),
 * on the pooled feature matrix in one process. Tests compare federated weights against it;
 * the label-party-only baseline is this trainer on the label party's columns alone.
 */
import { epochBatches, trainValidationSplit, RowSplit } from './batch-schedule';
import {
  approximateResidual,
  headLabels,
  LrHyperparameters,
  LrOptimizer,
  partialLogits,
  resolvePositiveWeight,
} from './logistic';

export interface PlainLrResult {
  /** Weights over the pooled columns, intercept last when the caller appended it. */
  readonly weights: Float64Array;
  readonly split: RowSplit;
}

/**
 * @param matrix row-major pooled (already standardised, intercept appended) features.
 * @param labels 0/1 labels, or for objective `regression` the (standardised) targets.
 */
export function trainPlainSplitLr(
  matrix: Float64Array,
  columns: number,
  labels: ArrayLike<number>,
  hp: LrHyperparameters,
  options: { interceptIndex?: number; split?: RowSplit } = {},
): PlainLrResult {
  const rows = labels.length;
  if (matrix.length !== rows * columns) {
    throw new RangeError(`matrix has ${matrix.length} values, expected ${rows} rows x ${columns} columns`);
  }
  const split = options.split ?? trainValidationSplit(rows, hp.validationFraction, hp.seed);
  const weights = new Float64Array(columns);
  const optimizer = new LrOptimizer(hp, columns, options.interceptIndex ?? -1);
  const residual = approximateResidual(hp.sigmoid, hp.objective);
  const positiveWeight = hp.objective === 'regression' ? 1 : resolvePositiveWeight(hp, labels, split.train);
  for (let epoch = 0; epoch < hp.epochs; epoch++) {
    for (const batch of epochBatches(split.train, hp.batchSize, hp.seed, epoch)) {
      const u = partialLogits(matrix, columns, weights, batch);
      const gradient = new Float64Array(columns);
      for (let k = 0; k < batch.length; k++) {
        const y = labels[batch[k]];
        const d = (residual(u[k], y) * (y === 1 ? positiveWeight : 1)) / batch.length;
        const base = batch[k] * columns;
        for (let j = 0; j < columns; j++) gradient[j] += matrix[base + j] * d;
      }
      optimizer.apply(weights, gradient, epoch);
    }
  }
  return { weights, split };
}

/**
 * Multiclass, one-vs-rest: head k is trainPlainSplitLr on the labels "class is k", every head on the
 * same split and batches (as the protocol runs them), each with its own optimizer.
 */
export function trainPlainSplitLrHeads(
  matrix: Float64Array,
  columns: number,
  classes: ArrayLike<number>,
  classCount: number,
  hp: LrHyperparameters,
  options: { interceptIndex?: number; split?: RowSplit } = {},
): { weights: Float64Array[]; split: RowSplit } {
  const binary = { ...hp, objective: 'binary' as const };
  const heads = Array.from({ length: classCount }, (_, k) =>
    trainPlainSplitLr(matrix, columns, headLabels(classes, k), binary, options),
  );
  return { weights: heads.map((h) => h.weights), split: heads[0].split };
}
