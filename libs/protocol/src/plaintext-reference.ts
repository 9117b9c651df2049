import { loadPartyTable, PartyTable } from '../../data/src/party-table';
import { trainValidationSplit } from '../../ml/src/batch-schedule';
import { LrHyperparameters, partialLogits, withIntercept } from '../../ml/src/logistic';
import { rocAuc } from '../../ml/src/metrics';
import { trainPlainSplitLr } from '../../ml/src/plain-split-lr';
import { Standardizer } from '../../ml/src/standardizer';

export interface PlaintextReference {
  /** [label party's columns..., intercept, each feature party's columns in turn...] */
  readonly weights: Float64Array;
  readonly trainAuc: number;
  readonly validationAuc: number;
}

/**
 * The plaintext reference for a federated run: the same algorithm on the joined rows, in the
 * parties' agreed order, each party's block standardised on the training rows as the parties do.
 * For tests and benchmarks only: it reads both parties' files.
 */
export async function plaintextReference(guestFile: string, hostFiles: string | readonly string[], hp: LrHyperparameters, labelColumn = 'y'): Promise<PlaintextReference> {
  const guest = await loadPartyTable(guestFile, { labelColumn });
  const hosts = await Promise.all((typeof hostFiles === 'string' ? [hostFiles] : hostFiles).map((f) => loadPartyTable(f)));
  // The order PSI agrees on: the IDs all parties share, sorted by code units.
  const hostIds = hosts.map((h) => new Set(h.ids));
  const order = guest.ids.filter((id) => hostIds.every((ids) => ids.has(id))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const split = trainValidationSplit(order.length, hp.validationFraction, hp.seed);
  const block = (t: PartyTable) => {
    const index = new Map(t.ids.map((id, i) => [id, i]));
    const w = t.featureNames.length;
    const m = new Float64Array(order.length * w);
    order.forEach((id, r) => m.set(t.features.subarray(index.get(id)! * w, (index.get(id)! + 1) * w), r * w));
    return Standardizer.fit(m, w, split.train).transform(m, w, hp.clipSigma ?? 0);
  };
  const blocks = [{ m: withIntercept(block(guest), guest.featureNames.length), w: guest.featureNames.length + 1 }, ...hosts.map((h) => ({ m: block(h), w: h.featureNames.length }))];
  const width = blocks.reduce((s, b) => s + b.w, 0);
  const pooled = new Float64Array(order.length * width);
  for (let r = 0; r < order.length; r++) {
    let at = r * width;
    for (const { m, w } of blocks) {
      pooled.set(m.subarray(r * w, (r + 1) * w), at);
      at += w;
    }
  }
  const guestIndex = new Map(guest.ids.map((id, i) => [id, i]));
  const labels = Uint8Array.from(order, (id) => guest.labels![guestIndex.get(id)!]);
  const { weights } = trainPlainSplitLr(pooled, width, labels, hp, { interceptIndex: blocks[0].w - 1, split });
  const auc = (rows: Int32Array) => rocAuc(partialLogits(pooled, width, weights, rows), Array.from(rows, (r) => labels[r]));
  return { weights, trainAuc: auc(split.train), validationAuc: auc(split.validation) };
}
