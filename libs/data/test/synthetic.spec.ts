/** Tests for the seeded bank / e-commerce demo data. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  BANK_COLUMNS,
  ECOMMERCE_COLUMNS,
  generateSyntheticVfl,
  parsePartyTable,
  PartyTable,
  selectRows,
  SyntheticTables,
  writeSyntheticVfl,
} from '../src';
import { fitAndScoreAuc } from './logistic-auc';

function loadBoth(tables: SyntheticTables): { bank: PartyTable; ecommerce: PartyTable } {
  return {
    bank: parsePartyTable(tables.bankCsv, 'bank.csv', { labelColumn: 'default' }),
    ecommerce: parsePartyTable(tables.ecommerceCsv, 'ecommerce.csv'),
  };
}

describe('generateSyntheticVfl', () => {
  const tables = generateSyntheticVfl();
  const { bank, ecommerce } = loadBoth(tables);

  it('is deterministic per seed', () => {
    const again = generateSyntheticVfl({ seed: 7 });
    expect(again.bankCsv).toBe(tables.bankCsv);
    expect(again.ecommerceCsv).toBe(tables.ecommerceCsv);
    const other = generateSyntheticVfl({ seed: 8 });
    expect(other.bankCsv).not.toBe(tables.bankCsv);
    expect(other.ecommerceCsv).not.toBe(tables.ecommerceCsv);
  });

  it('produces tables parsePartyTable accepts, with the documented columns', () => {
    expect(tables.bankCsv.split('\n', 1)[0]).toBe(BANK_COLUMNS.join(','));
    expect(tables.ecommerceCsv.split('\n', 1)[0]).toBe(ECOMMERCE_COLUMNS.join(','));
    expect(bank.ids).toHaveLength(10_000);
    expect(ecommerce.ids).toHaveLength(10_000);
    expect(bank.featureNames).toEqual(BANK_COLUMNS.slice(2));
    expect(ecommerce.featureNames).toEqual(ECOMMERCE_COLUMNS.slice(1));
  });

  it('shares exactly round(overlap * bankRows) ids, in a different order', () => {
    expect(tables.sharedIds).toBe(7000);
    const ecommerceIds = new Set(ecommerce.ids);
    const shared = bank.ids.filter((id) => ecommerceIds.has(id));
    expect(shared).toHaveLength(7000);
    const bankOrder = new Set(bank.ids);
    const sharedInEcommerceOrder = ecommerce.ids.filter((id) => bankOrder.has(id));
    expect(sharedInEcommerceOrder).not.toEqual(shared);
  });

  it('uses unique mobile-number-shaped ids', () => {
    const all = [...bank.ids, ...ecommerce.ids];
    expect(all.filter((id) => !/^1[3-9]\d{9}$/.test(id))).toEqual([]);
    expect(new Set(all).size).toBe(20_000 - 7000);
  });

  it('has roughly 20% positive labels', () => {
    const positives = bank.labels!.reduce((sum, v) => sum + v, 0);
    expect(positives / bank.ids.length).toBeGreaterThan(0.18);
    expect(positives / bank.ids.length).toBeLessThan(0.22);
  });

  it('writes integer counts, ratios in [0, 1] and at most 4 decimals', () => {
    const column = (table: PartyTable, name: string): number[] => {
      const j = table.featureNames.indexOf(name);
      const width = table.featureNames.length;
      return table.ids.map((_, i) => table.features[i * width + j]);
    };
    for (const name of ['past_delinquencies', 'age', 'tenure_months', 'num_cards']) {
      expect(column(bank, name).every(Number.isInteger)).toBe(true);
    }
    for (const name of ['order_frequency', 'night_orders', 'days_since_last']) {
      expect(column(ecommerce, name).every(Number.isInteger)).toBe(true);
    }
    for (const name of ['utilisation', 'debt_to_income']) {
      expect(column(bank, name).every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    for (const name of ['return_ratio', 'instalment_use', 'voucher_use']) {
      expect(column(ecommerce, name).every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    expect(column(bank, 'income').every((v) => v > 0)).toBe(true);
    expect(tables.bankCsv + tables.ecommerceCsv).not.toMatch(/\.\d{5}/);
  });

  it('joint features predict default clearly better than bank features alone', () => {
    const ecommerceIds = new Set(ecommerce.ids);
    const shared = bank.ids.filter((id) => ecommerceIds.has(id));
    const b = selectRows(bank, shared);
    const e = selectRows(ecommerce, shared);
    const n = shared.length;
    const wb = b.featureNames.length;
    const we = e.featureNames.length;
    const joint = new Float64Array(n * (wb + we));
    for (let i = 0; i < n; i++) {
      joint.set(b.features.subarray(i * wb, (i + 1) * wb), i * (wb + we));
      joint.set(e.features.subarray(i * we, (i + 1) * we), i * (wb + we) + wb);
    }
    const bankAuc = fitAndScoreAuc(b.features, n, wb, b.labels!);
    const jointAuc = fitAndScoreAuc(joint, n, wb + we, b.labels!);
    expect(bankAuc).toBeGreaterThan(0.65);
    expect(bankAuc).toBeLessThan(0.76);
    expect(jointAuc).toBeGreaterThan(0.76);
    expect(jointAuc - bankAuc).toBeGreaterThan(0.05);
  });

  it('honours custom sizes and rejects impossible overlaps', () => {
    const small = generateSyntheticVfl({ seed: 1, bankRows: 50, ecommerceRows: 30, overlap: 0.5 });
    const loaded = loadBoth(small);
    expect(loaded.bank.ids).toHaveLength(50);
    expect(loaded.ecommerce.ids).toHaveLength(30);
    expect(small.sharedIds).toBe(25);
    expect(loaded.ecommerce.ids.filter((id) => loaded.bank.ids.includes(id))).toHaveLength(25);
    expect(() => generateSyntheticVfl({ bankRows: 100, ecommerceRows: 10, overlap: 0.5 })).toThrow(RangeError);
    expect(() => generateSyntheticVfl({ overlap: 1.5 })).toThrow(RangeError);
    expect(() => generateSyntheticVfl({ bankRows: 0 })).toThrow(RangeError);
  });
});

describe('writeSyntheticVfl', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vfl-synth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes bank.csv and ecommerce.csv matching the in-memory tables', async () => {
    const options = { seed: 3, bankRows: 200, ecommerceRows: 150 };
    const out = await writeSyntheticVfl(path.join(dir, 'nested'), options);
    expect(path.basename(out.bankPath)).toBe('bank.csv');
    expect(path.basename(out.ecommercePath)).toBe('ecommerce.csv');
    const expected = generateSyntheticVfl(options);
    expect(out.sharedIds).toBe(expected.sharedIds);
    expect(await readFile(out.bankPath, 'utf8')).toBe(expected.bankCsv);
    expect(await readFile(out.ecommercePath, 'utf8')).toBe(expected.ecommerceCsv);
  });
});
