/**
 * The statistics model in one process on breast cancer (label party + one feature party): each
 * party's statistics equal a plaintext computation on its own aligned columns, only the shared
 * ones reach the coordinator, and no cell of either file crosses a party boundary.
 */
import * as path from 'node:path';
import { loadPartyTable } from '@vfl/data';
import { columnStatistics, DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { isStatisticsResult, runInProcessJob, StatisticsJobResult, StatisticsPartyModel } from '../src';
import type { InProcessFederation } from '../src';
import { WireScanner } from './wire-scanner';

const SHARED = path.resolve(__dirname, '../../../../shared/data');

describe('statistics', () => {
  let federation: InProcessFederation;
  let result: StatisticsJobResult;

  beforeAll(async () => {
    const run = await runInProcessJob({
      dataRoot: SHARED,
      model: 'statistics',
      hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
      label: { partyId: 'bank', file: 'breast_hetero_guest.csv', labelColumn: 'y' },
      features: [{ partyId: 'shop', file: 'breast_hetero_host.csv' }],
    });
    if (!isStatisticsResult(run.result)) throw new Error('not a statistics result');
    federation = run.federation;
    result = run.result;
  }, 120_000);

  it('shares only count and missing rate by default; each party keeps the rest, equal to a plaintext computation', async () => {
    expect(result.shared).toEqual(['count', 'missingRate']);
    const shop = result.parties.find((p) => p.partyId === 'shop')!;
    expect(shop.columns).toHaveLength(20);
    for (const c of shop.columns) expect(Object.keys(c).sort()).toEqual(['column', 'count', 'missingRate']);
    expect(shop.columns[0]).toEqual({ column: 'x0', count: 569, missingRate: 0 });
    const kept = federation.saved.get(`${result.manifest.jobId}:shop`) as StatisticsPartyModel;
    const table = await loadPartyTable(path.join(SHARED, 'breast_hetero_host.csv'));
    // Every ID is shared, so the aligned rows are the file's rows (in the intersection's order).
    const rows = Int32Array.from({ length: 569 }, (_, i) => i);
    const own = columnStatistics(table.features, 20, 3, 'x3', rows);
    expect(kept.statistics[3]).toMatchObject({ ...own, mean: expect.any(Number) });
    expect(kept.statistics[3].mean!).toBeCloseTo(own.mean!, 10);
    expect(kept.statistics[3].quantiles).toEqual(own.quantiles);
  });

  it('sends no cell of either party over the wire', async () => {
    const scan = new WireScanner(federation.wire);
    for (const [file, label] of [
      ['breast_hetero_host.csv', undefined],
      ['breast_hetero_guest.csv', 'y'],
    ] as const) {
      const t = await loadPartyTable(path.join(SHARED, file), label ? { labelColumn: label } : {});
      const cells = Array.from(t.features).filter((v) => v !== 0 && v !== 1);
      expect(scan.float64(cells)).toEqual([]);
      expect(scan.tokens(cells.map(String))).toEqual([]);
    }
  });
});
