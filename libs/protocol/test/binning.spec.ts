/**
 * WOE binning end to end in one process (real BFV, real PSI, signed commands, sealed peer
 * messages): every party's WOE and IV per bin equal a plaintext computation on the pooled data
 * (relative error ≤ 1e-6) on breast cancer and default credit; what crosses the wire carries no
 * label, no cell and no per-bin count; the coordinator decrypts only uniformly masked residues.
 */
import * as path from 'node:path';
import { BfvContext, BfvKeyHolder, BFV_N4096_T21 } from '@vfl/crypto';
import { loadPartyTable, selectRows } from '@vfl/data';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import {
  BinningJobResult,
  BinningPartyModel,
  binningSettings,
  BinningInput,
  ColumnBinning,
  isBinningResult,
  pooledWoeReference,
  runInProcessJob,
} from '../src';
import type { InProcessFederation } from '../src';
import { countingLayout, outputPositions } from '../src/binning/woe-counting';
import { WireScanner } from './wire-scanner';

const SHARED = path.resolve(__dirname, '../../../../shared/data');

interface Run {
  federation: InProcessFederation;
  result: BinningJobResult;
  decrypted: BigUint64Array[];
}

async function runBinningJob(guest: string, host: string, binning: BinningInput): Promise<Run> {
  const decrypt = jest.spyOn(BfvKeyHolder.prototype, 'decrypt');
  try {
    const run = await runInProcessJob({
      dataRoot: SHARED,
      model: 'binning',
      settings: { binning },
      hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
      ckksThreads: 0,
      label: { partyId: 'bank', file: guest, labelColumn: 'y' },
      features: [{ partyId: 'shop', file: host }],
    });
    if (!isBinningResult(run.result)) throw new Error('not a binning result');
    const decrypted = decrypt.mock.results.map((r) => (r.value as { coefficients: BigUint64Array }).coefficients);
    return { federation: run.federation, result: run.result, decrypted };
  } finally {
    decrypt.mockRestore();
  }
}

/** The pooled tables of both parties, each party's rows in the label party's ID order. */
async function pooled(guest: string, host: string, binning: BinningInput) {
  const g = await loadPartyTable(path.join(SHARED, guest), { labelColumn: 'y' });
  const h = selectRows(await loadPartyTable(path.join(SHARED, host)), g.ids);
  const settings = binningSettings.parse(binning);
  return { bank: pooledWoeReference(g, g.labels!, settings), shop: pooledWoeReference(h, g.labels!, settings) };
}

function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
}

function expectSameTables(federated: readonly ColumnBinning[], reference: readonly ColumnBinning[]): number {
  let worst = 0;
  expect(federated.map((c) => c.column)).toEqual(reference.map((c) => c.column));
  federated.forEach((c, j) => {
    const r = reference[j];
    expect(c.thresholds).toEqual(r.thresholds);
    expect(c.table.bins.map((b) => [b.rows, b.events])).toEqual(r.table.bins.map((b) => [b.rows, b.events]));
    c.table.bins.forEach((b, i) => (worst = Math.max(worst, relativeError(b.woe, r.table.bins[i].woe))));
    worst = Math.max(worst, relativeError(c.table.iv, r.table.iv));
  });
  return worst;
}

function saved(run: Run, party: string): BinningPartyModel {
  return run.federation.saved.get(`${run.result.manifest.jobId}:${party}`) as BinningPartyModel;
}

describe('WOE binning on breast cancer (quantile, 10 bins)', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runBinningJob('breast_hetero_guest.csv', 'breast_hetero_host.csv', {});
  }, 120_000);

  it('gives each owner the WOE and IV of the pooled data, independently recomputed', async () => {
    const reference = await pooled('breast_hetero_guest.csv', 'breast_hetero_host.csv', {});
    expect(expectSameTables(saved(run, 'bank').binning, reference.bank)).toBeLessThanOrEqual(1e-6);
    expect(expectSameTables(saved(run, 'shop').binning, reference.shop)).toBeLessThanOrEqual(1e-6);
    // An independent count from the federated cut points: ln((e/E)/(n/N)) by hand for the shop's x0.
    const g = await loadPartyTable(path.join(SHARED, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
    const h = selectRows(await loadPartyTable(path.join(SHARED, 'breast_hetero_host.csv')), g.ids);
    const x0 = saved(run, 'shop').binning[0];
    const e = new Array<number>(x0.thresholds.length + 1).fill(0);
    const c = new Array<number>(x0.thresholds.length + 1).fill(0);
    for (let r = 0; r < g.ids.length; r++) {
      const v = h.features[r * 20];
      const b = x0.thresholds.filter((t) => t < v).length;
      e[b] += g.labels![r];
      c[b]++;
    }
    const E = e.reduce((s, v) => s + v, 0);
    const N = g.ids.length - E;
    e.forEach((events, b) => {
      const woe = Math.log(Math.max(events, 0.5) / E / (Math.max(c[b] - events, 0.5) / N));
      expect(relativeError(x0.table.bins[b].woe, woe)).toBeLessThanOrEqual(1e-9);
    });
  });

  it('shares WOE and IV per bin with the coordinator, never counts or cut points', () => {
    const shop = run.result.parties.find((p) => p.partyId === 'shop')!;
    expect(shop.features).toHaveLength(20);
    for (const f of shop.features)
      expect(Object.keys(f).sort()).toEqual(['binIv', 'bins', 'column', 'index', 'iv', 'woe']);
    expect(shop.features[0].iv).toBeCloseTo(saved(run, 'shop').binning[0].table.iv, 12);
    expect(run.result.decryptions).toBe(20);
  });

  it('keeps labels, cells and per-bin event counts off the wire; the coordinator decrypts uniform residues', async () => {
    const scan = new WireScanner(run.federation.wire);
    const g = await loadPartyTable(path.join(SHARED, 'breast_hetero_guest.csv'), { labelColumn: 'y' });
    const h = await loadPartyTable(path.join(SHARED, 'breast_hetero_host.csv'));
    const cells = [...g.features, ...h.features].filter((v) => v !== 0 && v !== 1);
    expect(scan.float64(cells)).toEqual([]);
    expect(scan.tokens(cells.map(String))).toEqual([]);
    for (let start = 0; start + 24 <= g.labels!.length; start += 24)
      expect(scan.bytes(g.labels!.subarray(start, start + 24))).toEqual([]);
    // Per-bin event counts of every shop feature, as 8-byte integers (how they would travel) and as text.
    for (const f of saved(run, 'shop').binning) {
      const counts = BigUint64Array.from(f.table.bins.slice(0, -1), (b) => BigInt(b.events));
      expect(scan.bytes(Buffer.from(counts.buffer))).toEqual([]);
      expect(scan.bytes(Buffer.from(f.table.bins.map((b) => b.events).join(',')))).toEqual([]);
    }
    // Positive control: a masked residue the coordinator released is on the wire (bin.release).
    const firstOutput = outputPositions(countingLayout(4096, 10, 569), 1)[0];
    const first = BigUint64Array.of(run.decrypted[0][firstOutput]);
    expect(new Set(scan.bytes(Buffer.from(first.buffer)).map((m) => m.kind))).toEqual(new Set(['bin.release']));
    const bfv = await BfvContext.create(BFV_N4096_T21);
    const t = bfv.plainModulus;
    bfv.dispose();
    let near = 0;
    let total = 0;
    for (const coefficients of run.decrypted)
      for (const c of coefficients) {
        total++;
        if (c < 2n ** 11n || c > t - 2n ** 11n) near++;
      }
    // Unmasked, every coefficient would be a count or a partial sum under 569 (or 0); masked, about
    // one in 2^9 lands within 2^11 of 0 mod t (t ≈ 2^21).
    expect(total).toBe(20 * 4096);
    expect(near).toBeLessThan(total / 100);
  });
});

describe('WOE binning on default credit', () => {
  it('matches the pooled computation with quantile bins and with monotonic chi-merge', async () => {
    for (const binning of [{ method: 'quantile' }, { method: 'chimerge', monotonic: true, maxBins: 6 }] as const) {
      const run = await runBinningJob('default_credit_hetero_guest.csv', 'default_credit_hetero_host.csv', binning);
      const reference = await pooled('default_credit_hetero_guest.csv', 'default_credit_hetero_host.csv', binning);
      expect(expectSameTables(saved(run, 'bank').binning, reference.bank)).toBeLessThanOrEqual(1e-6);
      expect(expectSameTables(saved(run, 'shop').binning, reference.shop)).toBeLessThanOrEqual(1e-6);
      if (binning.method === 'chimerge')
        for (const f of saved(run, 'shop').binning) {
          const woe = f.table.bins.slice(0, -1).map((b) => b.woe);
          expect(woe.length).toBeLessThanOrEqual(6);
          const rising = woe.every((w, i) => i === 0 || w >= woe[i - 1]);
          const falling = woe.every((w, i) => i === 0 || w <= woe[i - 1]);
          expect(rising || falling).toBe(true);
        }
    }
  }, 300_000);
});
