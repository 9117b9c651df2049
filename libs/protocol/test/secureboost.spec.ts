/**
 * SecureBoost end to end in one process (real BFV, real PSI, signed commands, sealed peer
 * messages) on breast cancer split over a label party and two feature parties: the federated
 * trees are the plaintext reference's, node for node; and what crosses the wire is checked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BfvKeyHolder } from '@vfl/crypto';
import { loadPartyTable } from '@vfl/data';
import { binBlock, DEFAULT_LR_HYPERPARAMETERS, trainGbdtReference, TreeNode } from '@vfl/ml';
import { boosterParams, isSecureBoostResult, runInProcessJob, secureBoostSettings, SecureBoostJobResult } from '../src';
import type { InProcessFederation } from '../src';
import { SecureBoostLabel } from '../src/secureboost/label-party';
import { WireScanner } from './wire-scanner';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const settings = secureBoostSettings.parse({ trees: 3, maxDepth: 3, seed: 5, colSample: 0.8 });

describe('SecureBoost', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-sb-'));
  let federation: InProcessFederation;
  let result: SecureBoostJobResult;
  let label: SecureBoostLabel;
  const decrypted: Float64Array[] = [];

  beforeAll(async () => {
    const [header, ...rows] = fs.readFileSync(path.join(SHARED, 'breast_hetero_host.csv'), 'utf8').trim().split('\n');
    const pick = (line: string, from: number, to: number) => {
      const cells = line.split(',');
      return [cells[0], ...cells.slice(1 + from, 1 + to)].join(',');
    };
    fs.writeFileSync(path.join(dir, 'a.csv'), [header, ...rows].map((l) => pick(l, 0, 10)).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'b.csv'), [header, ...rows].map((l) => pick(l, 10, 20)).join('\n') + '\n');
    fs.copyFileSync(path.join(SHARED, 'breast_hetero_guest.csv'), path.join(dir, 'bank.csv'));
    const begin = jest.spyOn(SecureBoostLabel.prototype, 'beginTree');
    const decrypt = jest.spyOn(BfvKeyHolder.prototype, 'decrypt');
    const run = await runInProcessJob({
      dataRoot: dir,
      model: 'secureboost',
      secureboost: settings,
      hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [
        { partyId: 'a', file: 'a.csv' },
        { partyId: 'b', file: 'b.csv' },
      ],
    });
    label = begin.mock.contexts[0] as SecureBoostLabel;
    for (const r of decrypt.mock.results) decrypted.push((r.value as { coefficients: Float64Array }).coefficients);
    begin.mockRestore();
    decrypt.mockRestore();
    if (!isSecureBoostResult(run.result)) throw new Error('not a secureboost result');
    federation = run.federation;
    result = run.result;
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('grows the plaintext reference trees, node for node, on the joined data', async () => {
    // The joined data in the federation's row order (the label party's aligned rows).
    const tables = await Promise.all(
      ['bank', 'a', 'b'].map((p) =>
        loadPartyTable(path.join(dir, `${p}.csv`), p === 'bank' ? { labelColumn: 'y' } : {}),
      ),
    );
    const ids = [...tables[0].ids].filter((id) => tables.every((t) => t.ids.includes(id))).sort();
    const { train, validation } = label.booster;
    const blocks = tables.map((t) => {
      const index = new Map(t.ids.map((id, i) => [id, i]));
      const w = t.featureNames.length;
      const m = new Float64Array(ids.length * w);
      ids.forEach((id, r) => m.set(t.features.subarray(index.get(id)! * w, (index.get(id)! + 1) * w), r * w));
      return binBlock(m, w, train, settings.maxBins);
    });
    const labels = Float64Array.from(ids, (id) => tables[0].labels![tables[0].ids.indexOf(id)]);
    const reference = await trainGbdtReference({ blocks, labels, train, validation, params: boosterParams(settings) });
    const shape = (trees: TreeNode[][]) =>
      trees.map((t) =>
        t.map((n) =>
          n.split
            ? [n.split.block, n.split.candidate.feature, n.split.candidate.bin, n.split.candidate.missingLeft, n.left]
            : n.leaf,
        ),
      );
    expect(shape(label.booster.trees)).toEqual(shape(reference.trees));
    expect(label.booster.predictions(validation)).toEqual(reference.validation);
    // Both feature parties' splits are used, so the encrypted path is exercised.
    const blocksUsed = new Set(label.booster.trees.flatMap((t) => t.filter((n) => n.split).map((n) => n.split!.block)));
    expect(blocksUsed.has(1) || blocksUsed.has(2)).toBe(true);
    expect(result.validation.auc).toBeGreaterThan(0.95);
    expect(result.epochs).toHaveLength(3);
    expect(result.labelOnly.validation.auc).toBeGreaterThan(0.5);
  });

  it('keeps every label, feature value and gradient off the wire; the coordinator decrypts only masked sums', async () => {
    const scan = new WireScanner(federation.wire);
    // Positive control: the coordinator's released (masked) residues cross in plaintext and are found.
    expect(new Set(scan.float64(decrypted[0].subarray(0, 64)).map((h) => h.message.kind))).toEqual(
      new Set(['sb.split']),
    );
    const tables = await Promise.all(['a', 'b'].map((p) => loadPartyTable(path.join(dir, `${p}.csv`))));
    const cells = tables.flatMap((t) => Array.from(t.features)).filter((v) => v !== 0 && v !== 1);
    expect(scan.float64(cells)).toEqual([]);
    expect(scan.tokens(cells.map(String))).toEqual([]);
  });
});
