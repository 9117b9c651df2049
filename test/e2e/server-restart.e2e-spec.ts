/**
 * The servers under a job stopped and started again, with real processes: the coordinator's
 * PostgreSQL (a cluster of the test's own) and the NATS server (one of the test's own). The job
 * fails cleanly naming what went away (never stuck in a running state), no audit event is lost
 * or written twice, `vfl audit verify` finds the trail valid, and the job resumes to the model an
 * uninterrupted run reaches.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { writeSyntheticVfl, BANK_LABEL_COLUMN } from '@vfl/data';
import type { SplitLrJobResult } from '@vfl/protocol';
import { launchFederation, LaunchOptions } from '../../scripts/federation-launcher';
import { runJob } from '../../scripts/job-client';
import type { JobView } from '../../apps/coordinator/src/jobs/jobs.service';
import { ownNats, ownPostgres, OwnNats, OwnPostgres } from './support/own-servers';

const TERMINAL: readonly string[] = ['succeeded', 'failed', 'cancelled'];
const body = {
  model: 'split-lr',
  parties: [
    { partyId: 'bank', role: 'label', data: { path: 'bank.csv', labelColumn: BANK_LABEL_COLUMN } },
    { partyId: 'ecommerce', role: 'feature', data: { path: 'ecommerce.csv' } },
  ],
  hyperparameters: { epochs: 4, batchSize: 128, validationFraction: 0.2 },
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A federation on its own data, with the helpers every case here uses. */
async function federationFor(work: string, options: Partial<LaunchOptions>) {
  const data = await writeSyntheticVfl(path.join(work, 'data'), { seed: 29, bankRows: 1200, ecommerceRows: 1200 });
  const federation = await launchFederation({
    workDir: work,
    parties: [
      { partyId: 'bank', role: 'label', dataRoot: path.dirname(data.bankPath) },
      { partyId: 'ecommerce', role: 'feature', dataRoot: path.dirname(data.ecommercePath) },
    ],
    ...options,
  });
  const auth = { authorization: `Bearer ${federation.adminKey}` };
  const view = async (id: string) =>
    (await (await fetch(`${federation.coordinatorUrl}/jobs/${id}`, { headers: auth })).json()) as JobView;
  const post = async (p: string, b: unknown) =>
    fetch(`${federation.coordinatorUrl}${p}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(b),
    });
  const ended = (id: string, ms: number) =>
    until(`job ${id} ends`, async () => ((v) => (TERMINAL.includes(v.state) ? v : undefined))(await view(id)), ms);
  const reference = (await runJob(federation.coordinatorUrl, federation.adminKey, body, () => undefined)).job;
  expect(reference.state).toBe('succeeded');
  return { federation, view, post, ended, reference, auth };
}

const auc = (v: JobView) => (v.result as SplitLrJobResult).train.auc;

describe("the coordinator's PostgreSQL stopped and started under a running job", () => {
  let work: string;
  let db: OwnPostgres;
  let f: Awaited<ReturnType<typeof federationFor>>;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-pg-restart-'));
    db = await ownPostgres();
    f = await federationFor(work, { databaseUrl: db.url });
  }, 120_000);

  afterAll(async () => {
    await f?.federation.stop();
    db?.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('fails the job naming the database, loses no audit event and writes none twice, and resumes', async () => {
    const started = (await (await f.post('/jobs', body)).json()) as JobView;
    await until(
      '2 epochs checkpointed',
      async () => ((await f.view(started.id)).checkpointEpoch ?? 0) >= 2 || undefined,
      60_000,
    );
    db.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    db.start();
    const failed = await f.ended(started.id, 20_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/audit database/);
    expect(failed.checkpointEpoch).toBeGreaterThanOrEqual(2);

    // Every event once, seq 0..n-1 without a gap, and the chain valid.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ n: string; max: number; distinct: string }>(
      'SELECT count(*) AS n, max(seq) AS max, count(DISTINCT seq) AS distinct FROM audit_events WHERE job_id = $1',
      [started.id],
    );
    await client.end();
    expect(Number(rows[0].n)).toBe(rows[0].max + 1);
    expect(Number(rows[0].distinct)).toBe(rows[0].max + 1);
    const check = spawnSync(
      process.execPath,
      [path.resolve(__dirname, '../../dist/scripts/vfl.js'), 'audit', 'verify', '--job', started.id, '--json'],
      { env: { ...process.env, DATABASE_URL: db.url }, encoding: 'utf8' },
    );
    expect(JSON.parse(check.stdout.trim().split('\n').pop()!)).toMatchObject({ valid: true, firstBroken: null });
    expect(check.status).toBe(0);

    const res = await f.post(`/jobs/${started.id}/resume`, {});
    expect(res.status).toBe(201);
    const resumed = await f.ended(((await res.json()) as JobView).id, 90_000);
    expect({ state: resumed.state, error: resumed.error }).toEqual({ state: 'succeeded', error: null });
    expect(Math.abs(auc(resumed) - auc(f.reference))).toBeLessThan(1e-4);
  }, 180_000);
});

describe('the NATS server stopped and started under a job running over NATS', () => {
  let work: string;
  let nats: OwnNats;
  let f: Awaited<ReturnType<typeof federationFor>>;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-nats-restart-'));
    nats = await ownNats();
    f = await federationFor(work, { transport: 'nats', natsUrl: nats.url });
  }, 120_000);

  afterAll(async () => {
    await f?.federation.stop();
    await nats?.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('ends the job cleanly (done or failed naming NATS), its trail valid, and a failed one resumes', async () => {
    const started = (await (await f.post('/jobs', body)).json()) as JobView;
    await until(
      '2 epochs checkpointed',
      async () => ((await f.view(started.id)).checkpointEpoch ?? 0) >= 2 || undefined,
      60_000,
    );
    await nats.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    await nats.start();
    const ended = await f.ended(started.id, 60_000);
    const trail = (await (
      await fetch(`${f.federation.coordinatorUrl}/jobs/${started.id}/audit?limit=1`, { headers: f.auth })
    ).json()) as { verification: { valid: boolean; events: number } };
    expect(trail.verification.valid).toBe(true);
    if (ended.state === 'succeeded') {
      expect(Math.abs(auc(ended) - auc(f.reference))).toBeLessThan(1e-4);
      return;
    }
    expect(ended.state).toBe('failed');
    expect(ended.error).toMatch(/the NATS server \(nats:\/\/127.0.0.1:\d+\) did not answer/);
    expect(ended.failedParty).toBe('nats');
    const res = await f.post(`/jobs/${started.id}/resume`, {});
    expect(res.status).toBe(201);
    const resumed = await f.ended(((await res.json()) as JobView).id, 90_000);
    expect({ state: resumed.state, error: resumed.error }).toEqual({ state: 'succeeded', error: null });
    expect(Math.abs(auc(resumed) - auc(f.reference))).toBeLessThan(1e-4);
  }, 180_000);
});
