/**
 * SecureBoost on a table with gaps, in one process: empty cells load as missing values, have a
 * bin of their own, and every split learns where they go; a column that is all gaps and one with a
 * single value never split and never put NaN in the model; the federated trees still equal the
 * plaintext reference's, and prediction routes missing values as training did.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPartyTable } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { treeShape } from './tree-shape';
import {
  isSecureBoostResult,
  runInProcessJob,
  secureBoostSettings,
  SplitLrPrediction,
  pooledSecureBoostReference,
} from '../src';
import { SecureBoostLabel } from '../src/secureboost/label-party';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const settings = secureBoostSettings.parse({ trees: 4, maxDepth: 3, seed: 9, learningRate: 0.5 });

describe('SecureBoost with missing values', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-sb-missing-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bins gaps on their own, learns their direction, and stays lossless', async () => {
    // The host table with 30% of the cells of its first eight columns blanked (seeded), plus a column
    // that is all gaps and one that holds a single value.
    const [header, ...rows] = fs.readFileSync(path.join(SHARED, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    let x = 12345;
    const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const gappy = rows.map((line) => {
      const cells = line.split(',');
      for (let j = 1; j <= 8; j++) if (random() < 0.3) cells[j] = '';
      return [...cells, '', '7'].join(',');
    });
    fs.writeFileSync(path.join(dir, 'shop.csv'), [`${header},gaps,constant`, ...gappy].join('\n') + '\n');
    fs.copyFileSync(path.join(SHARED, 'breast_hetero_guest.csv'), path.join(dir, 'bank.csv'));
    const begin = jest.spyOn(SecureBoostLabel.prototype, 'beginTree');
    const run = await runInProcessJob({
      dataRoot: dir,
      model: 'secureboost',
      secureboost: settings,
      hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
      ckksThreads: 0,
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [{ partyId: 'shop', file: 'shop.csv' }],
    });
    const label = begin.mock.contexts[0] as SecureBoostLabel;
    begin.mockRestore();
    if (!isSecureBoostResult(run.result)) throw new Error('not a secureboost result');

    const bank = await loadPartyTable(path.join(dir, 'bank.csv'), { labelColumn: 'y' });
    const shop = await loadPartyTable(path.join(dir, 'shop.csv'), { allowMissing: true });
    expect(shop.features.some(Number.isNaN)).toBe(true);
    const reference = await pooledSecureBoostReference([bank, shop], settings);
    const { validation } = label.booster;
    const { ids } = reference;
    expect(treeShape(label.booster.trees)).toEqual(treeShape(reference.trees));
    const shopSplits = label.booster.trees.flatMap((t) => t.filter((n) => n.split?.block === 1));
    expect(shopSplits.length).toBeGreaterThan(0);
    // Some split on a gappy column sends the gaps left, some right: the direction is learned.
    const gappySplits = shopSplits.filter((n) => n.split!.candidate.feature < 8);
    expect(new Set(gappySplits.map((n) => n.split!.candidate.missingLeft)).size).toBe(2);
    // The all-gaps column (20) and the constant one (21) never split; no leaf is NaN.
    expect(shopSplits.some((n) => n.split!.candidate.feature >= 20)).toBe(false);
    expect(label.booster.trees.flat().every((n) => n.leaf === undefined || Number.isFinite(n.leaf))).toBe(true);

    // Prediction routes missing values as training did.
    const prediction = await new SplitLrPrediction(
      {
        predictionId: randomUUID(),
        modelJobId: run.result.manifest.jobId,
        parties: [
          { partyId: 'bank', role: 'label' },
          { partyId: 'shop', role: 'feature' },
        ],
        manifest: run.result.manifest,
        ids: Array.from(validation, (r) => ids[r]),
      },
      run.federation.channels,
      async () => undefined,
    ).run();
    expect(Float64Array.from(prediction.scores, (s) => s.score)).toEqual(label.booster.predictions(validation));
  }, 120_000);
});
