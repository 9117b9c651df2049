/**
 * The plaintext GBDT the SecureBoost run is compared with: it learns (breast: validation AUC well
 * above LR's floor), its trees obey the configured shape, and early stopping keeps the best trees.
 */
import * as path from 'node:path';
import { loadPartyTable } from '@vfl/data';
import { binBlock, GBDT_DEFAULTS, GbdtParams, rocAuc, trainGbdtReference, trainValidationSplit } from '../src';

const SHARED = path.resolve(__dirname, '../../../../shared/data');

async function breast() {
  const guest = await loadPartyTable(path.join(SHARED, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
  const host = await loadPartyTable(path.join(SHARED, 'breast_hetero_host.csv'));
  const hostRow = new Map(host.ids.map((id, i) => [id, i]));
  const ids = guest.ids.filter((id) => hostRow.has(id));
  const gw = guest.featureNames.length;
  const hw = host.featureNames.length;
  const gm = new Float64Array(ids.length * gw);
  const hm = new Float64Array(ids.length * hw);
  const labels = new Float64Array(ids.length);
  const guestRow = new Map(guest.ids.map((id, i) => [id, i]));
  ids.forEach((id, r) => {
    const g = guestRow.get(id)!;
    gm.set(guest.features.subarray(g * gw, (g + 1) * gw), r * gw);
    const h = hostRow.get(id)!;
    hm.set(host.features.subarray(h * hw, (h + 1) * hw), r * hw);
    labels[r] = guest.labels![g];
  });
  const split = trainValidationSplit(ids.length, 0.3, 7);
  return { gm, gw, hm, hw, labels, split };
}

describe('trainGbdtReference', () => {
  it('learns breast cancer from both blocks, with trees no deeper than maxDepth', async () => {
    const d = await breast();
    const params: GbdtParams = { ...GBDT_DEFAULTS, trees: 10, maxDepth: 3 };
    const blocks = [binBlock(d.gm, d.gw, d.split.train, 32), binBlock(d.hm, d.hw, d.split.train, 32)];
    const result = await trainGbdtReference({
      blocks,
      labels: d.labels,
      train: d.split.train,
      validation: d.split.validation,
      params,
    });
    const auc = rocAuc(
      result.validation,
      Array.from(d.split.validation, (r) => d.labels[r]),
    );
    expect(auc).toBeGreaterThan(0.97);
    expect(result.trees).toHaveLength(10);
    for (const tree of result.trees) {
      for (const node of tree) {
        expect(node.depth).toBeLessThanOrEqual(3);
        expect((node.leaf === undefined) !== (node.split === undefined)).toBe(true);
      }
    }
    // Both parties' features are used somewhere.
    const blocksUsed = new Set(result.trees.flatMap((t) => t.filter((n) => n.split).map((n) => n.split!.block)));
    expect([...blocksUsed].sort()).toEqual([0, 1]);
    // The validation loss falls from the first tree to the last.
    expect(result.reports.at(-1)!.validationLoss).toBeLessThan(result.reports[0].validationLoss);
  });

  it('keeps the best trees under early stopping', async () => {
    const d = await breast();
    const params: GbdtParams = {
      ...GBDT_DEFAULTS,
      trees: 60,
      maxDepth: 4,
      learningRate: 1,
      earlyStopping: { patience: 3 },
    };
    const blocks = [binBlock(d.gm, d.gw, d.split.train, 32), binBlock(d.hm, d.hw, d.split.train, 32)];
    const result = await trainGbdtReference({
      blocks,
      labels: d.labels,
      train: d.split.train,
      validation: d.split.validation,
      params,
    });
    expect(result.trees.length).toBeLessThan(60);
    const best = Math.min(...result.reports.map((r) => r.validationLoss));
    expect(result.reports[result.keptTrees - 1].validationLoss).toBe(best);
    expect(result.trees.length - result.keptTrees).toBe(3);
  });
});
