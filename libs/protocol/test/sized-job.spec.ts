/**
 * A job on a table with empty cells as libsvm-derived files ship them (sparse zeros left blank):
 * the parties fill them as declared, the runner sizes batch and epochs from the rows the data check
 * counted (the request left them out), and the result carries the uplift over the label party's
 * own model with DeLong's interval.
 */
import * as path from 'node:path';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import type { AuditEventInput } from '@vfl/audit';
import { isSplitLrResult, runInProcessJob } from '../src';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/data-as-it-comes');

describe('split LR sized from the rows, on sparse data with blanks', () => {
  it('fills the blanks, sizes batches and epochs from the row count, and reports the uplift with its interval', async () => {
    const audit: AuditEventInput[] = [];
    const run = await runInProcessJob({
      dataRoot: FIXTURES,
      // Placeholders, as the API stores them until the runner sizes them.
      hyperparameters: {
        ...DEFAULT_LR_HYPERPARAMETERS,
        learningRate: 0.05,
        earlyStopping: { metric: 'auc', patience: 3 },
      },
      sizedByRows: { batchSize: true, epochs: true },
      ckksThreads: 0,
      audit: (e) => void audit.push(e),
      label: { partyId: 'bank', file: 'digits_sparse_guest.csv', labelColumn: 'y', data: { missing: 'zero' } },
      features: [{ partyId: 'shop', file: 'digits_sparse_host.csv', data: { missing: 'zero' } }],
    });
    if (!isSplitLrResult(run.result)) throw new Error('not a split-LR result');
    const r = run.result;
    // The check counted 966 and 967 rows; the label party has 32 columns and its intercept: batches of at least 66.
    const schedule = audit.find((e) => e.step === 'job.schedule');
    expect(schedule?.detail).toEqual({
      rows: 966,
      batchSize: 128,
      epochs: 67,
      sizedByRows: { batchSize: true, epochs: true },
    });
    expect(r.validation.auc).toBeGreaterThan(0.9);
    // Early stopping (on by default when epochs are sized) may end it sooner.
    expect(r.epochs.length).toBeLessThanOrEqual(67);
    const uplift = r.labelOnly.uplift!;
    expect(uplift.difference).toBeCloseTo(r.validation.auc - r.labelOnly.validation.auc, 10);
    expect(uplift.low).toBeLessThan(uplift.difference);
    expect(uplift.high).toBeGreaterThan(uplift.difference);
    expect(uplift.standardError).toBeGreaterThan(0);
  }, 600_000);
});
