/**
 * Bad input to WOE binning: a constant column, an all-missing column, a missing-value bin under
 * minBinRows, too few rows per bin, and a label with one class each end the job with an error that
 * names the column (never a cell's content); bad settings are refused before any party is called.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { BinningInput, runInProcessJob } from '../src';

const ROWS = 200;

function write(dir: string, name: string, header: string[], cell: (row: number, column: number) => string): void {
  const lines = [['id', ...header].join(',')];
  for (let r = 0; r < ROWS; r++) lines.push([`id${r}`, ...header.map((_, c) => cell(r, c))].join(','));
  fs.writeFileSync(path.join(dir, name), lines.join('\n') + '\n');
}

describe('WOE binning refusals', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-bin-'));
  beforeAll(() => {
    write(dir, 'bank.csv', ['y', 'a'], (r, c) => (c === 0 ? String(r % 3 === 0 ? 1 : 0) : String((r * 7) % 13)));
    write(dir, 'bank-one-class.csv', ['y', 'a'], (r, c) => (c === 0 ? '0' : String(r % 11)));
    write(dir, 'constant.csv', ['good', 'flat'], (r, c) => (c === 0 ? String(r % 17) : '4'));
    write(dir, 'empty.csv', ['good', 'gone'], (r, c) => (c === 0 ? String(r % 17) : ''));
    write(dir, 'holes.csv', ['good', 'holey'], (r, c) => (c === 0 ? String(r % 17) : r < 3 ? '' : String(r % 5)));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (host: string, binning: BinningInput = {}, guest = 'bank.csv') =>
    runInProcessJob({
      dataRoot: dir,
      model: 'binning',
      settings: { binning },
      hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
      ckksThreads: 0,
      label: { partyId: 'bank', file: guest, labelColumn: 'y' },
      features: [{ partyId: 'shop', file: host }],
    });

  it('names a constant column', async () => {
    await expect(run('constant.csv')).rejects.toThrow(/shop failed at he\.keys: binning: column flat: constant/);
  });

  it('names an all-missing column', async () => {
    await expect(run('empty.csv')).rejects.toThrow(/column gone: every value is missing/);
  });

  it('names a column whose missing-value bin is under minBinRows', async () => {
    await expect(run('holes.csv')).rejects.toThrow(/column holey: 3 missing values .* under minBinRows \(20\)/);
  });

  it('names a column with too few rows for its bins', async () => {
    await expect(run('constant.csv', { minBinRows: 150 })).rejects.toThrow(
      /failed at he\.keys: binning: column (a|good): 200 values are too few rows for two bins of minBinRows \(150\)/,
    );
  });

  it('names the label column when it has one class', async () => {
    await expect(run('holes.csv', { minBinRows: 3 }, 'bank-one-class.csv')).rejects.toThrow(
      // Found by the data check every job runs before alignment, named by file and column.
      /bank failed at job\.check: [^]*bank-one-class\.csv, column "y": every one of the 200 rows has the same label/,
    );
  });

  it('refuses bad settings by field before calling any party', async () => {
    await expect(run('constant.csv', { maxBins: 1 })).rejects.toThrow(/^binning: maxBins: /);
    await expect(run('constant.csv', { method: 'magic' } as unknown as BinningInput)).rejects.toThrow(
      /^binning: method: /,
    );
  });
});
