/**
 * Against the real PostgreSQL server (DATABASE_URL, default 127.0.0.1:5432/test) with the real
 * migrations, and against the embedded PGlite server the demo uses when no DATABASE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditStore } from '../src/audit-store';
import { Client } from 'pg';
import {
  createScratchDatabase,
  dataSourceOptions,
  openDatabase,
  startEmbeddedPostgres,
  EmbeddedPostgres,
} from '@vfl/database';
import { SignedAuditLog } from '../src/signed-audit-log';
import { hashEvent, verifyChain } from '../src/audit-chain';
import { SigningIdentity } from '@vfl/crypto';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe(`${AuditStore.name} on the PostgreSQL server`, () => {
  let ds: DataSource;
  let store: AuditStore;

  beforeAll(async () => {
    ds = await openDatabase(SERVER_URL);
    store = new AuditStore(ds);
  });
  afterAll(() => ds.destroy());

  it('persists concurrent appends as one gap-free chain that verifies', async () => {
    const jobId = randomUUID();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.record(jobId, {
          step: 'lr.forward',
          sender: 'ecommerce',
          receiver: 'bank',
          messageDigest: 'ab'.repeat(32),
          byteSize: i,
          detail: { batch: i },
        }),
      ),
    );
    const events = await store.events(jobId);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await store.verify(jobId)).toMatchObject({ valid: true, events: 50, firstBroken: null });
  });

  it('continues a chain across store instances (a restarted coordinator)', async () => {
    const jobId = randomUUID();
    await store.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { state: 'queued' } });
    const second = new AuditStore(ds);
    await second.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { state: 'aligning' } });
    expect((await second.verify(jobId)).valid).toBe(true);
    expect((await second.events(jobId)).length).toBe(2);
  });

  it('fails the writes queued with a failed insert and continues the chain from what is stored', async () => {
    const jobId = randomUUID();
    await store.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { state: 'queued' } });
    // PostgreSQL's jsonb refuses a NUL character: the whole batch fails.
    const failed = await Promise.allSettled([
      store.record(jobId, { step: 'lr.update', sender: 'coordinator', detail: { note: 'a\u0000b' } }),
      store.record(jobId, { step: 'lr.update', sender: 'coordinator', detail: { batch: 1 } }),
    ]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await store.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { state: 'failed' } });
    expect((await store.events(jobId)).map((e) => e.seq)).toEqual([0, 1]);
    expect(await store.verify(jobId)).toMatchObject({ valid: true, events: 2, firstBroken: null });
  });

  it('refuses UPDATE, DELETE and TRUNCATE on audit_events (append-only trigger)', async () => {
    const jobId = randomUUID();
    await store.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { state: 'queued' } });
    await expect(ds.query(`UPDATE audit_events SET byte_size = 1 WHERE job_id = $1`, [jobId])).rejects.toThrow(
      /append-only: UPDATE/,
    );
    await expect(ds.query(`DELETE FROM audit_events WHERE job_id = $1`, [jobId])).rejects.toThrow(
      /append-only: DELETE/,
    );
    await expect(ds.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only: TRUNCATE/);
  });

  it('detects a row edited by someone who disabled the trigger', async () => {
    const jobId = randomUUID();
    for (let i = 0; i < 3; i++)
      await store.record(jobId, { step: 'lr.update', sender: 'coordinator', receiver: 'bank', byteSize: 100 + i });
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
      await runner.query(`UPDATE audit_events SET byte_size = 999 WHERE job_id = $1 AND seq = 1`, [jobId]);
      await runner.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    const verification = await store.verify(jobId);
    expect(verification.valid).toBe(false);
    expect(verification.firstBroken).toEqual({
      jobId,
      seq: 1,
      reason: 'hash does not match the event content (the row was altered)',
    });
  });
});

describe('signed chain heads (PostgreSQL server)', () => {
  let ds: DataSource;
  let store: AuditStore;
  const coordinator = SigningIdentity.generate('coordinator');

  beforeAll(async () => {
    ds = await openDatabase(SERVER_URL);
    store = new AuditStore(ds);
  });
  afterAll(() => ds.destroy());

  async function rewrite(sql: string, params: unknown[]) {
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
      await runner.query(sql, params);
      await runner.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
  }

  it('verifies checkpoints signed by the trusted key', async () => {
    const jobId = randomUUID();
    for (let i = 0; i < 3; i++)
      await store.checkpoint(
        await store.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { i } }),
        coordinator,
      );
    expect(await store.verify(jobId, [coordinator.publicKeyHex])).toMatchObject({
      valid: true,
      events: 3,
      checkpoints: 3,
      signers: [coordinator.publicKeyHex],
    });
    expect((await store.verify(jobId, [SigningIdentity.generate('other').publicKeyHex])).firstBroken?.reason).toMatch(
      /untrusted key/,
    );
  });

  it('catches a rewrite that recomputed every hash consistently (the chain alone cannot)', async () => {
    const jobId = randomUUID();
    const events = [];
    for (let i = 0; i < 3; i++)
      events.push(
        await store.record(jobId, { step: 'lr.update', sender: 'coordinator', receiver: 'bank', byteSize: 100 + i }),
      );
    await store.checkpoint(events[2], coordinator);
    // A database superuser rewrites seq 1 and re-links seq 2 so every hash checks out.
    const forged1 = { ...events[1], byteSize: 999 };
    const hash1 = hashEvent(forged1);
    const forged2 = { ...events[2], prevHash: hash1 };
    const hash2 = hashEvent(forged2);
    await rewrite(`UPDATE audit_events SET byte_size = 999, hash = $2 WHERE job_id = $1 AND seq = 1`, [jobId, hash1]);
    await rewrite(`UPDATE audit_events SET prev_hash = $2, hash = $3 WHERE job_id = $1 AND seq = 2`, [
      jobId,
      hash1,
      hash2,
    ]);
    expect(verifyChain(await store.events(jobId)).valid).toBe(true);
    const verification = await store.verify(jobId, [coordinator.publicKeyHex]);
    expect(verification.valid).toBe(false);
    expect(verification.firstBroken).toEqual({
      jobId,
      seq: 2,
      reason: 'the event differs from the signed chain head: history was rewritten',
    });
  });

  it('catches a truncated trail below a signed head', async () => {
    const jobId = randomUUID();
    const first = await store.record(jobId, { step: 'job.state', sender: 'coordinator' });
    const second = await store.record(jobId, { step: 'job.state', sender: 'coordinator' });
    await store.checkpoint(first, coordinator);
    await store.checkpoint(second, coordinator);
    await rewrite(`DELETE FROM audit_events WHERE job_id = $1 AND seq = 1`, [jobId]);
    expect((await store.verify(jobId)).firstBroken).toEqual({
      jobId,
      seq: 1,
      reason: 'a signed chain head has no event: the trail was truncated',
    });
  });
});

describe(`${AuditStore.name} on embedded PGlite`, () => {
  let pg: EmbeddedPostgres;
  let ds: DataSource;

  beforeAll(async () => {
    pg = await startEmbeddedPostgres();
    ds = await openDatabase(pg.url, { singleConnection: true });
  });
  afterAll(async () => {
    await ds.destroy();
    await pg.stop();
  });

  it('runs the same migrations and chain code', async () => {
    const store = new AuditStore(ds);
    const jobId = randomUUID();
    for (let i = 0; i < 5; i++)
      await store.record(jobId, { step: 'psi.blinded', sender: 'bank', receiver: 'ecommerce', byteSize: 32 * i });
    const events = await store.events(jobId);
    expect(verifyChain(events)).toEqual({ valid: true, events: 5, firstBroken: null });
    await expect(ds.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
  });
});

describe('the application role vfl_app (PostgreSQL server)', () => {
  const login = `vfl_app_test_${process.pid}`;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let owner: DataSource;
  let app: DataSource;
  const jobId = randomUUID();

  beforeAll(async () => {
    scratch = await createScratchDatabase(SERVER_URL, `vfl_test_grants_${process.pid}`);
    owner = await openDatabase(scratch.url);
    await owner.query(`DROP ROLE IF EXISTS ${login}`);
    await owner.query(`CREATE ROLE ${login} LOGIN IN ROLE vfl_app`);
    const url = new URL(scratch.url);
    url.username = login;
    app = new DataSource(dataSourceOptions(url.toString()));
    await app.initialize();
  });
  afterAll(async () => {
    await app?.destroy();
    await owner?.destroy();
    await scratch?.drop();
    const c = new Client({ connectionString: SERVER_URL });
    await c.connect();
    await c.query(`DROP ROLE IF EXISTS ${login}`);
    await c.end();
  });

  it('appends and reads the trail, runs the jobs table, and finds its migrations applied', async () => {
    const store = new AuditStore(app);
    await store.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { state: 'queued' } });
    await store.checkpoint(
      await store.record(jobId, { step: 'job.state', sender: 'coordinator', detail: { state: 'aligning' } }),
      SigningIdentity.generate('coordinator'),
    );
    expect((await store.verify(jobId)).valid).toBe(true);
    await app.query(`INSERT INTO jobs (id, state, spec) VALUES ($1, 'queued', '{}')`, [jobId]);
    await app.query(`UPDATE jobs SET state = 'aligning' WHERE id = $1`, [jobId]);
    expect(await app.showMigrations()).toBe(false);
  });

  it('may not UPDATE, DELETE or TRUNCATE audit events or signed heads (refused by permission, before any trigger)', async () => {
    for (const table of ['audit_events', 'audit_checkpoints']) {
      await expect(app.query(`UPDATE ${table} SET seq = seq WHERE job_id = $1`, [jobId])).rejects.toThrow(
        `permission denied for table ${table}`,
      );
      await expect(app.query(`DELETE FROM ${table} WHERE job_id = $1`, [jobId])).rejects.toThrow(
        `permission denied for table ${table}`,
      );
      await expect(app.query(`TRUNCATE ${table}`)).rejects.toThrow(`permission denied for table ${table}`);
      await expect(app.query(`ALTER TABLE ${table} DISABLE TRIGGER ${table}_no_update_delete`)).rejects.toThrow(
        `must be owner of table ${table}`,
      );
    }
  });
});

describe('periodic chain-head signing (PostgreSQL server)', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = await openDatabase(SERVER_URL);
  });
  afterAll(() => ds.destroy());

  it('signs the heads of chains that grew since their last signature, and only those', async () => {
    const log = new SignedAuditLog(ds, SigningIdentity.generate('coordinator'));
    const [a, b] = [randomUUID(), randomUUID()];
    await log.record(a, { step: 'job.state', sender: 'coordinator' });
    await log.recordSigned(b, { step: 'job.state', sender: 'coordinator' });
    expect(await log.store.signMovedHeads(log.identity)).toBe(1);
    expect(await log.store.signMovedHeads(log.identity)).toBe(0);
    await log.record(b, { step: 'lr.update', sender: 'coordinator', receiver: 'bank' });
    log.startPeriodicSigning(50);
    await new Promise((r) => setTimeout(r, 300));
    await log.stopPeriodicSigning();
    const heads: { job_id: string; seq: number }[] = await ds.query(
      `SELECT job_id, seq FROM audit_checkpoints WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, seq`,
      [[a, b]],
    );
    expect(heads.filter((h) => h.job_id === a).map((h) => h.seq)).toEqual([0]);
    expect(heads.filter((h) => h.job_id === b).map((h) => h.seq)).toEqual([0, 1]);
    expect(await log.store.verify(b, [log.identity.publicKeyHex])).toMatchObject({ valid: true, checkpoints: 2 });
  });
});
