/**
 * When an audit database goes down mid-job (a real embedded PostgreSQL, stopped), the job stops
 * with a clear error: no protocol step runs after the write it could not record.
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EmbeddedPostgres, openDatabase, startEmbeddedPostgres } from '@vfl/database';
import { SignedAuditLog } from '@vfl/audit';
import { SigningIdentity } from '@vfl/crypto';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { inProcessFederation } from '../src';
import { PartyCallError, PartyChannel, JobRunner, jobStrategies } from '../src';

const DATA = path.resolve(__dirname, '../../../../shared/data');
const hp = {
  ...DEFAULT_LR_HYPERPARAMETERS,
  epochs: 2,
  batchSize: 128,
  learningRate: 0.05,
  validationFraction: 0.2,
  seed: 7,
};
const parties = [
  { partyId: 'bank', role: 'label' as const, data: { path: 'breast_hetero_guest.csv', labelColumn: 'y' } },
  { partyId: 'ecommerce', role: 'feature' as const, data: { path: 'breast_hetero_host.csv' } },
];

async function embedded(): Promise<{ pg: EmbeddedPostgres; ds: DataSource; log: SignedAuditLog }> {
  const pg = await startEmbeddedPostgres();
  const ds = await openDatabase(pg.url, { singleConnection: true, schema: 'party' });
  return { pg, ds, log: new SignedAuditLog(ds, SigningIdentity.generate('owner')) };
}

describe('an audit database that goes down mid-job', () => {
  it('stops the job at the first step the coordinator cannot record, and runs no step after it', async () => {
    const { pg, ds, log } = await embedded();
    const jobId = randomUUID();
    const federation = await inProcessFederation(parties, DATA);
    const commands: { command: string; afterFailure: boolean }[] = [];
    let failed = false;
    let recorded = 0;
    const channels = new Map(
      [...federation.channels].map(([id, channel]): [string, PartyChannel] => [
        id,
        {
          partyId: id,
          call: (command, body) => (
            commands.push({ command: command.name, afterFailure: failed }),
            channel.call(command, body)
          ),
        },
      ]),
    );
    const job = new JobRunner(
      { jobId, model: 'split-lr', hyperparameters: hp, parties },
      channels,
      {
        audit: async (e) => {
          // The server goes away once training is under way.
          if (++recorded === 20) await pg.stop();
          try {
            await log.record(jobId, e);
          } catch (error) {
            failed = true;
            throw error;
          }
        },
        phase: async () => undefined,
        progress: () => undefined,
      },
      { strategies: jobStrategies() },
    );
    await expect(job.run()).rejects.toThrow(
      new RegExp(`^audit write for job ${jobId} failed, so the step it records did not go ahead: `),
    );
    expect(failed).toBe(true);
    // Only clean-up may follow: every party is told to close the job.
    expect(new Set(commands.filter((c) => c.afterFailure).map((c) => c.command))).toEqual(new Set(['job.close']));
    await ds.destroy().catch(() => undefined);
  }, 120_000);

  it('fails the job naming the party whose own audit log is down', async () => {
    const bank = await embedded();
    const shop = await embedded();
    const jobId = randomUUID();
    let bankRecords = 0;
    const federation = await inProcessFederation(parties, DATA, {
      partyAudit: (partyId) =>
        partyId === 'bank'
          ? {
              record: async (j, e) => {
                if (++bankRecords === 30) await bank.pg.stop();
                return bank.log.record(j, e);
              },
              close: (j) => bank.log.close(j),
            }
          : shop.log,
    });
    const job = new JobRunner(
      { jobId, model: 'split-lr', hyperparameters: hp, parties },
      federation.channels,
      {
        audit: async () => undefined,
        phase: async () => undefined,
        progress: () => undefined,
      },
      { strategies: jobStrategies() },
    );
    const error = await job.run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PartyCallError);
    expect((error as PartyCallError).partyId).toBe('bank');
    expect((error as Error).message).toMatch(/audit write for job .* failed, so the step it records did not go ahead/);
    await bank.ds.destroy().catch(() => undefined);
    await shop.ds.destroy();
    await shop.pg.stop();
  }, 120_000);
});
