/**
 * The same services over NATS (the real server at 127.0.0.1:4222, JetStream on for the
 * claim-check payload store), auditing into the embedded PostgreSQL the demo uses.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import { launchFederation, Federation } from '../../scripts/federation-launcher';
import { runJob } from '../../scripts/job-client';
import type { SplitLrJobResult } from '@vfl/protocol';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

describe('coordinator + bank + ecommerce over NATS (real processes, embedded PostgreSQL)', () => {
  let work: string;
  let federation: Federation;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-nats-'));
    const data = await writeSyntheticVfl(path.join(work, 'data'), { seed: 5, bankRows: 2000, ecommerceRows: 2000 });
    federation = await launchFederation({
      workDir: work,
      transport: 'nats',
      natsUrl: NATS_URL,
      parties: [
        { partyId: 'bank', role: 'label', dataRoot: path.dirname(data.bankPath) },
        { partyId: 'ecommerce', role: 'feature', dataRoot: path.dirname(data.ecommercePath) },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await federation?.stop();
  });

  it('trains a job whose gradient messages exceed the server max_payload (1 MiB)', async () => {
    const outcome = await runJob(
      federation.coordinatorUrl,
      federation.adminKey,
      {
        model: 'split-lr',
        parties: [
          { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
          { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
        ],
        // 1,372 training rows in one batch: 2 blocks per ciphertext, so the bank's 9 columns take
        // 5 gradient ciphertexts, 1.3 MB in one reply.
        hyperparameters: { epochs: 2, batchSize: 2048, validationFraction: 0.02 },
      },
      () => undefined,
    );
    expect(outcome.job.error).toBeNull();
    expect(outcome.job.state).toBe('succeeded');
    expect(outcome.job.result!.intersection).toBe(1400);
    expect((outcome.job.result as SplitLrJobResult).train.auc).toBeGreaterThan(0.7);
    expect(outcome.audit.valid).toBe(true);
    const trail = (await (
      await fetch(`${federation.coordinatorUrl}/jobs/${outcome.job.id}/audit`, {
        headers: { authorization: `Bearer ${federation.adminKey}` },
      })
    ).json()) as {
      events: { step: string; byteSize: number }[];
    };
    expect(
      Math.max(...trail.events.filter((e) => e.step === 'lr.masked_gradient').map((e) => e.byteSize)),
    ).toBeGreaterThan(1024 * 1024);
  }, 180_000);
});
