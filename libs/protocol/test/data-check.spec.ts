/**
 * The data check in one process with real parties: every problem of every party's file in one
 * answer, before any alignment, as signed job.check commands; a job with bad data stops at the
 * check with all of them; and the parties' answers carry no cell and no ID.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { checkJobData, DataProblemsError, inProcessFederation, runInProcessJob } from '../src';

const SECRET_ID = 'cust-4242-secret';

describe('job.check', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-check-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => {
    // The bank: a text column, a duplicate ID and empty cells. The shop: a label column it should not have, a ragged row.
    fs.writeFileSync(
      path.join(dir, 'bank.csv'),
      [
        'id,y,age,city',
        `${SECRET_ID},1,30,Leeds`,
        'b,0,,York',
        `${SECRET_ID},1,40,Hull`,
        ...Array.from({ length: 40 }, (_, i) => `r${i},${i % 2},${i === 7 ? '' : 20 + i},Ely`),
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'shop.csv'),
      ['id,spend', `${SECRET_ID},1`, 'b,2,9', ...Array.from({ length: 40 }, (_, i) => `r${i},${i}`)].join('\n'),
    );
  });

  it('reports every problem of every party in one answer, and the job stops at it', async () => {
    const federation = await inProcessFederation(
      [
        { partyId: 'bank', role: 'label' },
        { partyId: 'shop', role: 'feature' },
      ],
      dir,
      { record: true, ckksThreads: 0 },
    );
    const spec = {
      jobId: randomUUID(),
      model: 'split-lr',
      hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
      parties: [
        { partyId: 'bank', role: 'label' as const, data: { path: 'bank.csv', labelColumn: 'y' } },
        { partyId: 'shop', role: 'feature' as const, data: { path: 'shop.csv' } },
      ],
    };
    const check = await checkJobData(spec, federation.channels, { labelled: true, batchSize: 64 });
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      expect.stringMatching(
        /^bank: bank.csv, column "city": 43 times \(lines 2, 3, 4, 5, 6, …\): not a number .*declare it categorical/,
      ),
      'bank: bank.csv, column "age": 2 times (lines 3, 12): empty cell, expected a number (fill empty cells: data.missing "mean", "median", "zero", … in the job, or --missing mean in the demo)',
      'bank: bank.csv, column "id", line 4: duplicate id (first seen on line 2)',
      'shop: shop.csv, line 3: expected 2 cells, found 3',
    ]);
    // Signed commands like any other, and nothing of a cell or an ID in any answer.
    expect(new Set(federation.wire.map((m) => m.kind))).toEqual(new Set(['job.check', 'job.check.reply']));
    const decoder = new TextDecoder();
    for (const m of federation.wire)
      for (const secret of [SECRET_ID, 'Leeds']) expect(decoder.decode(m.bytes)).not.toContain(secret);

    // The job runs the check first: it fails with all four problems, before any alignment.
    const audit: { step: string }[] = [];
    const run = runInProcessJob({
      dataRoot: dir,
      hyperparameters: { ...DEFAULT_LR_HYPERPARAMETERS, batchSize: 64 },
      ckksThreads: 0,
      audit: (e) => void audit.push(e),
      label: { partyId: 'bank', file: 'bank.csv', labelColumn: 'y' },
      features: [{ partyId: 'shop', file: 'shop.csv' }],
    });
    await expect(run).rejects.toThrow(DataProblemsError);
    await expect(run).rejects.toThrow(
      /^bank failed at job.check: the data check found 4 problems:\n {2}bank: bank.csv, column "city"/,
    );
    expect(audit.map((e) => e.step)).toEqual(['job.roster', 'job.check']);
  });

  it('a declared fill and encoding clear the problems they fix', async () => {
    const federation = await inProcessFederation(
      [
        { partyId: 'bank', role: 'label' },
        { partyId: 'shop', role: 'feature' },
      ],
      dir,
      { ckksThreads: 0 },
    );
    const check = await checkJobData(
      {
        jobId: randomUUID(),
        model: 'split-lr',
        hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
        parties: [
          {
            partyId: 'bank',
            role: 'label',
            data: { path: 'bank.csv', labelColumn: 'y', missing: 'mean', detectCategorical: true },
          },
          { partyId: 'shop', role: 'feature', data: { path: 'shop.csv' } },
        ],
      },
      federation.channels,
      { labelled: true, batchSize: 64 },
    );
    expect(check.problems).toEqual([
      'bank: bank.csv, column "id", line 4: duplicate id (first seen on line 2)',
      'shop: shop.csv, line 3: expected 2 cells, found 3',
    ]);
    expect(check.parties.bank.rows).toBe(43);
  });
});
