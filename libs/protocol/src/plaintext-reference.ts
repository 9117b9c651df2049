import { loadPartyTable, PartyTable } from '../../data/src/party-table';
import { trainValidationSplit } from '../../ml/src/batch-schedule';
import { LrHyperparameters, partialLogits, withIntercept } from '../../ml/src/logistic';
import { rocAuc } from '../../ml/src/metrics';
import { trainPlainSplitLr } from '../../ml/src/plain-split-lr';
import { Standardizer } from '../../ml/src/standardizer';

export interface PlaintextReference {
  /** [label party's columns..., intercept, feature party's columns...] */
  readonly weights: Float64Array;
  readonly trainAuc: number;
  readonly validationAuc: number;
}

/**
 * The plaintext reference for a federated run: the same algorithm on the joined rows, in the
 * parties' agreed order, each party's block standardised on the training rows as the parties do.
 * For tests and benchmarks only: it reads both parties' files.
 */
export async function plaintextReference(guestFile: string, hostFile: string, hp: LrHyperparameters, labelColumn = 'y'): Promise<PlaintextReference> {
  const guest = await loadPartyTable(guestFile, { labelColumn });
  const host = await loadPartyTable(hostFile);
  // The order PSI agrees on: the shared IDs sorted by code units.
  const hostIds = new Set(host.ids);
  const order = guest.ids.filter((id) => hostIds.has(id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const split = trainValidationSplit(order.length, hp.validationFraction, hp.seed);
  const block = (t: PartyTable) => {
    const index = new Map(t.ids.map((id, i) => [id, i]));
    const w = t.featureNames.length;
    const m = new Float64Array(order.length * w);
    order.forEach((id, r) => m.set(t.features.subarray(index.get(id)! * w, (index.get(id)! + 1) * w), r * w));
    return Standardizer.fit(m, w, split.train).transform(m, w, hp.clipSigma ?? 0);
  };
  const g = withIntercept(block(guest), guest.featureNames.length);
  const h = block(host);
  const gw = guest.featureNames.length + 1;
  const hw = host.featureNames.length;
  const pooled = new Float64Array(order.length * (gw + hw));
  for (let r = 0; r < order.length; r++) {
    pooled.set(g.subarray(r * gw, (r + 1) * gw), r * (gw + hw));
    pooled.set(h.subarray(r * hw, (r + 1) * hw), r * (gw + hw) + gw);
  }
  const guestIndex = new Map(guest.ids.map((id, i) => [id, i]));
  const labels = Uint8Array.from(order, (id) => guest.labels![guestIndex.get(id)!]);
  const { weights } = trainPlainSplitLr(pooled, gw + hw, labels, hp, { interceptIndex: gw - 1, split });
  const auc = (rows: Int32Array) => rocAuc(partialLogits(pooled, gw + hw, weights, rows), Array.from(rows, (r) => labels[r]));
  return { weights, trainAuc: auc(split.train), validationAuc: auc(split.validation) };
}
