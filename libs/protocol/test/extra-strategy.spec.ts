/**
 * The seam: a model the platform does not know, registered from this test alone (a command, its
 * party handler, its coordinator strategy), runs end to end on the job runner (roster, signed
 * job.prepare, PSI, its own command, job.close) without a change to any file but the registry's lists.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuditEventInput } from '@vfl/audit';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { inProcessFederation } from '../src';
import { JobRunner } from '../src';
import type { JobSpec } from '../src/job/job-types';
import type { JobStrategy } from '../src/job/strategy';
import { onJobCommand, PartyHandlerGroup } from '../src/party/party-model';
import { BUILT_IN_GROUPS, jobStrategies, partyHandlers } from '../src';
import { defineCommand, jobRequest, nonNegativeInt } from '../src/wire/command';

const DATA = path.resolve(__dirname, '../../../../shared/data');

/** A federated row count: each party reports how many aligned rows it holds in each split. */
const countRows = defineCommand(
  'rows.count',
  jobRequest,
  z.object({ train: nonNegativeInt, validation: nonNegativeInt }),
);

const rowCountParty: PartyHandlerGroup = {
  model: 'row-count',
  hooks: {},
  commands: [
    onJobCommand(countRows, (_, job) => ({
      train: job.rows('train').length,
      validation: job.rows('validation').length,
    })),
  ],
};

interface RowCountResult {
  readonly model: 'row-count';
  readonly intersection: number;
  readonly counts: Record<string, { train: number; validation: number }>;
}

const rowCountStrategy: JobStrategy<RowCountResult> = {
  model: 'row-count',
  alignment: 'intersection',
  dataSettings: () => ({ validationFraction: 0.25, seed: 7, clipSigma: 0, batchSize: 1 }),
  settings: () => ({}),
  async run(ctx) {
    const counts: RowCountResult['counts'] = {};
    for (const c of [ctx.label, ...ctx.features])
      counts[c.partyId] = await ctx.call(c, countRows, { jobId: ctx.spec.jobId });
    return { model: 'row-count', intersection: ctx.alignment.intersection, counts };
  },
};

const parties = [
  { partyId: 'bank', role: 'label' as const },
  { partyId: 'ecommerce', role: 'feature' as const },
];

function spec(): JobSpec {
  return {
    jobId: randomUUID(),
    model: 'row-count',
    hyperparameters: DEFAULT_LR_HYPERPARAMETERS,
    parties: [
      { partyId: 'bank', role: 'label', data: { path: 'breast_hetero_guest.csv', labelColumn: 'y' } },
      { partyId: 'ecommerce', role: 'feature', data: { path: 'breast_hetero_host.csv' } },
    ],
  };
}

const quiet = (audit: AuditEventInput[]) => ({
  audit: async (e: AuditEventInput) => void audit.push(e),
  phase: async () => undefined,
  progress: () => undefined,
});

describe('a model registered from a test', () => {
  it('runs end to end on the job runner: signed commands, PSI, its own command, an audited trail', async () => {
    const federation = await inProcessFederation(parties, DATA, {
      handlers: partyHandlers([...BUILT_IN_GROUPS, rowCountParty]),
    });
    const audit: AuditEventInput[] = [];
    const result = await new JobRunner(spec(), federation.channels, quiet(audit), {
      strategies: jobStrategies([rowCountStrategy]),
    }).run();
    expect(result).toMatchObject({ model: 'row-count', intersection: 569 });
    const counts = (result as RowCountResult).counts;
    expect(counts.bank).toEqual({ train: 427, validation: 142 });
    expect(counts.ecommerce).toEqual(counts.bank);
    expect(audit.map((e) => e.step)).toEqual(expect.arrayContaining(['job.roster', 'job.prepare', 'psi.result']));
    expect(
      federation.wire
        .filter((m) => m.kind === countRows.name)
        .map((m) => m.to)
        .sort(),
    ).toEqual(['bank', 'ecommerce']);
  });

  it('is refused, naming the model, by parties that do not serve it', async () => {
    const federation = await inProcessFederation(parties, DATA, { record: false });
    const runner = new JobRunner(spec(), federation.channels, quiet([]), {
      strategies: jobStrategies([rowCountStrategy]),
    });
    // The data check asks first, and every party says so.
    await expect(runner.run()).rejects.toThrow(
      /bank failed at job\.check: .*\n {2}bank: .*bank does not serve model "row-count"\n {2}ecommerce: .*ecommerce does not serve model "row-count"/,
    );
  });

  it('is refused by a coordinator that has no strategy for it', () => {
    expect(() => new JobRunner(spec(), new Map(), quiet([]), { strategies: jobStrategies() })).toThrow(
      'unknown model "row-count"',
    );
  });
});
