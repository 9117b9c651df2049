import { loadPartyTable, PartyTable } from '@vfl/data';
import {
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
): Promise<PooledParties> {
  const guest = await loadPartyTable(guestFile, { labelColumn });
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
    labels: Uint8Array.from(order, (id) => guest.labels![guestIndex.get(id)!]),
    split,
  };
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
