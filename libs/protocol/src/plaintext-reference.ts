import { loadPartyTable, Objective, PartyTable } from '@vfl/data';
import {
  multiclassMetrics,
  MulticlassMetrics,
  oneVsRestProbabilities,
  regressionMetrics,
  RegressionMetrics,
  TargetScaler,
  trainPlainSplitLrHeads,
  RowSplit,
  trainValidationSplit,
  LrHyperparameters,
  partialLogits,
  withIntercept,
  rocAuc,
  trainPlainSplitLr,
  Standardizer,
} from '@vfl/ml';

export interface PlaintextReference {
  /** [label party's columns..., intercept, each feature party's columns in turn...] */
  readonly weights: Float64Array;
  readonly trainAuc: number;
  readonly validationAuc: number;
}

export interface PooledParties {
  /** Each party's standardised block over the shared rows (label party first, intercept last in its block). */
  readonly blocks: readonly { readonly matrix: Float64Array; readonly columns: number }[];
  readonly labels: Uint8Array;
  readonly split: RowSplit;
  /** Objective regression or multiclass: the label party's target column in the shared rows' order. */
  readonly targets?: Float64Array;
  readonly classCount?: number;
}

/**
 * The rows all parties share, in the order PSI agrees on (sorted by code units), each party's
 * block standardised on the training rows as the parties do. For tests and benchmarks only: it
 * reads every party's file.
 */
export async function pooledParties(
  guestFile: string,
  hostFiles: string | readonly string[],
  hp: LrHyperparameters,
  labelColumn = 'y',
  objective: Objective = 'binary',
): Promise<PooledParties> {
  const guest = await loadPartyTable(guestFile, { labelColumn, objective });
  const hosts = await Promise.all(
    (typeof hostFiles === 'string' ? [hostFiles] : hostFiles).map((f) => loadPartyTable(f)),
  );
  const hostIds = hosts.map((h) => new Set(h.ids));
  const order = guest.ids
    .filter((id) => hostIds.every((ids) => ids.has(id)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const split = trainValidationSplit(order.length, hp.validationFraction, hp.seed);
  const block = (t: PartyTable) => {
    const index = new Map(t.ids.map((id, i) => [id, i]));
    const w = t.featureNames.length;
    const m = new Float64Array(order.length * w);
    order.forEach((id, r) => m.set(t.features.subarray(index.get(id)! * w, (index.get(id)! + 1) * w), r * w));
    return Standardizer.fit(m, w, split.train).transform(m, w, hp.clipSigma ?? 0);
  };
  const guestIndex = new Map(guest.ids.map((id, i) => [id, i]));
  return {
    blocks: [
      { matrix: withIntercept(block(guest), guest.featureNames.length), columns: guest.featureNames.length + 1 },
      ...hosts.map((h) => ({ matrix: block(h), columns: h.featureNames.length })),
    ],
    labels: guest.labels ? Uint8Array.from(order, (id) => guest.labels![guestIndex.get(id)!]) : new Uint8Array(),
    split,
    ...(guest.targets
      ? {
          targets: Float64Array.from(order, (id) => guest.targets![guestIndex.get(id)!]),
          classCount: guest.classCount,
        }
      : {}),
  };
}

/** Every party's block side by side, row-major (label party's block first, intercept last in it). */
function pooledMatrix(blocks: PooledParties['blocks'], rows: number): { pooled: Float64Array; width: number } {
  const width = blocks.reduce((s, b) => s + b.columns, 0);
  const pooled = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let at = r * width;
    for (const { matrix, columns } of blocks) {
      pooled.set(matrix.subarray(r * columns, (r + 1) * columns), at);
      at += columns;
    }
  }
  return { pooled, width };
}

export interface PlaintextRegressionReference {
  /** Over the pooled columns as in PlaintextReference, in standardised-target units. */
  readonly weights: Float64Array;
  readonly train: RegressionMetrics;
  readonly validation: RegressionMetrics;
}

/** Linear regression (squared loss, target standardised on the training rows) on the joined rows. Tests and benchmarks only. */
export async function plaintextRegressionReference(
  guestFile: string,
  hostFiles: string | readonly string[],
  hp: LrHyperparameters,
  labelColumn = 'y',
): Promise<PlaintextRegressionReference> {
  const { blocks, targets, split } = await pooledParties(guestFile, hostFiles, hp, labelColumn, 'regression');
  const { pooled, width } = pooledMatrix(blocks, targets!.length);
  const scaler = TargetScaler.fit(targets!, split.train);
  const { weights } = trainPlainSplitLr(
    pooled,
    width,
    scaler.scale(targets!),
    { ...hp, objective: 'regression' },
    { interceptIndex: blocks[0].columns - 1, split },
  );
  const metrics = (rows: Int32Array) =>
    regressionMetrics(
      scaler.unscale(partialLogits(pooled, width, weights, rows)),
      Float64Array.from(rows, (r) => targets![r]),
    );
  return { weights, train: metrics(split.train), validation: metrics(split.validation) };
}

export interface PlaintextMulticlassReference {
  /** One weight vector per class (head), each over the pooled columns. */
  readonly weights: Float64Array[];
  readonly train: MulticlassMetrics;
  readonly validation: MulticlassMetrics;
}

/** One-vs-rest logistic regression (one head per class, the protocol's arithmetic) on the joined rows. Tests and benchmarks only. */
export async function plaintextMulticlassReference(
  guestFile: string,
  hostFiles: string | readonly string[],
  hp: LrHyperparameters,
  labelColumn = 'y',
): Promise<PlaintextMulticlassReference> {
  const { blocks, targets, classCount, split } = await pooledParties(
    guestFile,
    hostFiles,
    hp,
    labelColumn,
    'multiclass',
  );
  const { pooled, width } = pooledMatrix(blocks, targets!.length);
  const { weights } = trainPlainSplitLrHeads(pooled, width, targets!, classCount!, hp, {
    interceptIndex: blocks[0].columns - 1,
    split,
  });
  const metrics = (rows: Int32Array) =>
    multiclassMetrics(
      oneVsRestProbabilities(weights.map((w) => partialLogits(pooled, width, w, rows))),
      Float64Array.from(rows, (r) => targets![r]),
      classCount!,
    );
  return { weights, train: metrics(split.train), validation: metrics(split.validation) };
}

/**
 * The plaintext reference for a federated run: the same algorithm on the joined rows (see
 * pooledParties). For tests and benchmarks only.
 */
export async function plaintextReference(
  guestFile: string,
  hostFiles: string | readonly string[],
  hp: LrHyperparameters,
  labelColumn = 'y',
): Promise<PlaintextReference> {
  const { blocks, labels, split } = await pooledParties(guestFile, hostFiles, hp, labelColumn);
  const width = blocks.reduce((s, b) => s + b.columns, 0);
  const rows = labels.length;
  const pooled = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let at = r * width;
    for (const { matrix, columns } of blocks) {
      pooled.set(matrix.subarray(r * columns, (r + 1) * columns), at);
      at += columns;
    }
  }
  const { weights } = trainPlainSplitLr(pooled, width, labels, hp, { interceptIndex: blocks[0].columns - 1, split });
  const auc = (rows: Int32Array) =>
    rocAuc(
      partialLogits(pooled, width, weights, rows),
      Array.from(rows, (r) => labels[r]),
    );
  return { weights, trainAuc: auc(split.train), validationAuc: auc(split.validation) };
}
