/**
 * What the coordinator's operator could rewrite unseen before the ledger, the write-once result and
 * key handovers: each case rewrites the database as its superuser would (triggers disabled), on the
 * PostgreSQL server, in a scratch database of its own so the whole-database check sees only it.
 */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Client } from 'pg';
import { createScratchDatabase, dataSourceOptions, openDatabase } from '@vfl/database';
import { SigningIdentity } from '@vfl/crypto';
import { AuditLedger } from '../src/audit-ledger';
import { SignedAuditLog } from '../src/signed-audit-log';
import { verifyTrail } from '../src/audit-verifier';
import { verifyCoordinatorTrail } from '../src/coordinator-verifier';
import { resultDigest } from '../src/result-digest';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('the coordinator-only check against its own superuser (PostgreSQL server)', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let ds: DataSource;
  const key = SigningIdentity.generate('coordinator');
  let log: SignedAuditLog;
  let ledger: AuditLedger;

  beforeAll(async () => {
    scratch = await createScratchDatabase(SERVER_URL, `vfl_test_ledger_${process.pid}`);
    ds = await openDatabase(scratch.url);
    log = new SignedAuditLog(ds, key);
    ledger = new AuditLedger(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await scratch?.drop();
  });

  /** A job as JobsService runs one: created and ended in the ledger, a result with its digest in between. */
  async function job(result?: object): Promise<string> {
    const id = randomUUID();
    await ds.query(`INSERT INTO jobs (id, state, spec) VALUES ($1, 'queued', '{}')`, [id]);
    await ledger.record('job.created', await log.recordSigned(id, { step: 'job.created', sender: 'api' }), key);
    await log.record(id, {
      step: 'lr.update',
      sender: 'coordinator',
      receiver: 'bank',
      messageDigest: 'ab'.repeat(32),
    });
    if (result) {
      const { digest, bytes } = resultDigest(result);
      await log.record(id, { step: 'job.result', sender: 'coordinator', messageDigest: digest, byteSize: bytes });
      await ds.query(`UPDATE jobs SET result = $2 WHERE id = $1`, [id, result]);
    }
    const end = await log.recordSigned(id, {
      step: 'job.state',
      sender: 'coordinator',
      detail: { state: 'succeeded' },
    });
    await ledger.record('job.ended', end, key);
    return id;
  }

  async function asSuperuser(...statements: [string, unknown[]][]): Promise<void> {
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      for (const table of ['audit_events', 'audit_checkpoints', 'jobs'])
        await runner.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
      for (const [sql, params] of statements) await runner.query(sql, params);
      for (const table of ['audit_events', 'audit_checkpoints', 'jobs'])
        await runner.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
  }

  it('verifies jobs run as the coordinator runs them, with their ledger rows and results', async () => {
    const id = await job({ auc: 0.8125, manifest: { parts: [{ partyId: 'bank' }] } });
    expect(await verifyCoordinatorTrail(ds, { trustedKeys: [key.publicKeyHex] })).toMatchObject({
      valid: true,
      firstBroken: null,
      results: 1,
      keys: [
        { publicKey: key.publicKeyHex, heads: expect.any(Number), ledgerRows: expect.any(Number), trusted: 'root' },
      ],
    });
    expect((await verifyCoordinatorTrail(ds, { jobIds: [id] })).valid).toBe(true);
  });

  it("catches a whole job's trail deleted, which every job's own chain still passes", async () => {
    const victim = await job();
    await job();
    await asSuperuser(
      ['DELETE FROM audit_events WHERE job_id = $1', [victim]],
      ['DELETE FROM audit_checkpoints WHERE job_id = $1', [victim]],
    );
    expect((await verifyTrail(ds, { trustedKeys: [key.publicKeyHex] })).valid).toBe(true);
    const check = await verifyCoordinatorTrail(ds, { trustedKeys: [key.publicKeyHex] });
    expect(check.valid).toBe(false);
    expect(check.firstBroken).toMatchObject({
      jobId: victim,
      seq: 0,
      reason:
        "the ledger records this job's chain head (job.created), but the trail no longer has it: the trail was deleted or cut",
    });
    // Asked for by id, the deleted trail is a break too, not an unknown job.
    expect((await verifyCoordinatorTrail(ds, { jobIds: [victim] })).firstBroken?.reason).toBe(
      'no audit event of this job is stored: its trail is missing',
    );
  });

  it('catches the tail of a trail cut off together with its newest signed head', async () => {
    const id = await job();
    await asSuperuser(
      ["DELETE FROM audit_events WHERE job_id = $1 AND step = 'job.state'", [id]],
      ['DELETE FROM audit_checkpoints WHERE job_id = $1 AND seq = 2', [id]],
    );
    expect((await verifyTrail(ds, { jobIds: [id], trustedKeys: [key.publicKeyHex] })).valid).toBe(true);
    expect((await verifyCoordinatorTrail(ds, { jobIds: [id] })).firstBroken).toMatchObject({
      jobId: id,
      seq: 2,
      reason: expect.stringMatching(
        /^the ledger records this job's chain head \(job\.ended\), but the trail no longer has it/,
      ),
    });
  });

  it('refuses rewriting a result once written, for every role, and catches a superuser who rewrote it anyway', async () => {
    const id = await job({ auc: 0.75 });
    await expect(ds.query(`UPDATE jobs SET result = '{"auc": 0.99}' WHERE id = $1`, [id])).rejects.toThrow(
      "jobs.result is written once: a job's result may not be changed",
    );
    await ds.query(`UPDATE jobs SET state = 'succeeded', progress = '{}' WHERE id = $1`, [id]);
    expect((await verifyCoordinatorTrail(ds, { jobIds: [id] })).valid).toBe(true);
    await asSuperuser([`UPDATE jobs SET result = '{"auc": 0.99}' WHERE id = $1`, [id]]);
    expect((await verifyCoordinatorTrail(ds, { jobIds: [id] })).firstBroken).toEqual({
      jobId: id,
      seq: null,
      reason: "the job's stored result differs from the digest its trail recorded: the result was rewritten",
    });
  });

  it('follows key handovers from a trusted root, says which key signed what, and trusts nothing else', async () => {
    const before = await job();
    const next = SigningIdentity.generate('coordinator');
    const handover = await ledger.rotate(key, next.publicKeyHex);
    const rotated = new SignedAuditLog(ds, next);
    const after = randomUUID();
    await ledger.record('job.created', await rotated.recordSigned(after, { step: 'job.created', sender: 'api' }), next);
    const jobIds = [before, after];
    const check = await verifyCoordinatorTrail(ds, { jobIds, trustedKeys: [key.publicKeyHex] });
    expect(check.firstBroken).toBeNull();
    expect(check.keys).toEqual(
      expect.arrayContaining([
        { publicKey: key.publicKeyHex, heads: 2, ledgerRows: 3, trusted: 'root' },
        {
          publicKey: next.publicKeyHex,
          heads: 1,
          ledgerRows: 1,
          trusted: { from: key.publicKeyHex, ledgerSeq: handover.seq },
        },
      ]),
    );
    expect(check.handovers).toContainEqual({ ledgerSeq: handover.seq, from: key.publicKeyHex, to: next.publicKeyHex });
    // Trusting only the new key does not vouch for what the old one signed; a handover from a key nobody trusts counts for nothing.
    expect(
      (await verifyCoordinatorTrail(ds, { jobIds, trustedKeys: [next.publicKeyHex] })).firstBroken?.reason,
    ).toMatch(/untrusted key/);
    const stranger = SigningIdentity.generate('stranger');
    const forged = await ledger.rotate(stranger, SigningIdentity.generate('mallory').publicKeyHex);
    const withForgery = await verifyCoordinatorTrail(ds, { jobIds, trustedKeys: [key.publicKeyHex] });
    expect(withForgery.firstBroken).toEqual({
      jobId: null,
      seq: null,
      ledgerSeq: forged.seq,
      reason: 'the ledger row is signed by a key that no trusted key handed over to',
    });
    expect(withForgery.keys).toContainEqual({
      publicKey: stranger.publicKeyHex,
      heads: 0,
      ledgerRows: 1,
      trusted: false,
    });
  });
});

describe('the application role and the jobs table (PostgreSQL server)', () => {
  const login = `vfl_app_jobs_${process.pid}`;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let owner: DataSource;
  let app: DataSource;

  beforeAll(async () => {
    scratch = await createScratchDatabase(SERVER_URL, `vfl_test_jobs_grants_${process.pid}`);
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

  it("moves a job's state and writes its result once, but may not rewrite its request, its result or the ledger", async () => {
    const id = randomUUID();
    await app.query(`INSERT INTO jobs (id, state, spec) VALUES ($1, 'queued', '{}')`, [id]);
    await app.query(`UPDATE jobs SET state = 'training', progress = '{"epoch": 1}', updated_at = now() WHERE id = $1`, [
      id,
    ]);
    await app.query(`UPDATE jobs SET result = '{"auc": 0.7}', state = 'succeeded' WHERE id = $1`, [id]);
    await expect(app.query(`UPDATE jobs SET result = '{"auc": 0.9}' WHERE id = $1`, [id])).rejects.toThrow(
      'jobs.result is written once',
    );
    await expect(app.query(`UPDATE jobs SET spec = '{"model": "other"}' WHERE id = $1`, [id])).rejects.toThrow(
      'permission denied for table jobs',
    );
    const key = SigningIdentity.generate('coordinator');
    await new AuditLedger(app).record('job.created', { jobId: id, seq: 0, hash: 'ab'.repeat(32) }, key);
    await expect(app.query(`DELETE FROM audit_ledger`)).rejects.toThrow('permission denied for table audit_ledger');
    await expect(app.query(`UPDATE audit_ledger SET seq = seq`)).rejects.toThrow(
      'permission denied for table audit_ledger',
    );
  });
});
