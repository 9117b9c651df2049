/**
 * Each party's own audit log, cross-checked against the coordinator's trail: a real split-LR
 * job in one process (breast cancer data, real CKKS and PSI), the coordinator's trail and each
 * party's log in databases of their own on the PostgreSQL server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditStore, crossCheckParties, PartyLog, SignedAuditLog } from '@vfl/audit';
import { createScratchDatabase, openDatabase } from '@vfl/database';
import { SigningIdentity } from '@vfl/crypto';
import { DEFAULT_LR_HYPERPARAMETERS } from '@vfl/ml';
import { countersignHead, InProcessFederation, runTwoPartyJob } from '../src';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DATA = path.resolve(__dirname, '../../../../shared/data');
const hp = {
  ...DEFAULT_LR_HYPERPARAMETERS,
  epochs: 1,
  batchSize: 128,
  learningRate: 0.05,
  validationFraction: 0.2,
  seed: 7,
};

describe('party audit logs cross-checked against the coordinator trail (PostgreSQL server)', () => {
  const scratch: { drop(): Promise<void> }[] = [];
  const sources: DataSource[] = [];
  let coordinator: DataSource;
  const urls = new Map<string, string>();
  const logs = new Map<string, PartyLog>();
  const jobId = randomUUID();
  let federation: InProcessFederation;
  let trail: SignedAuditLog;

  async function database(name: string, schema: 'coordinator' | 'party'): Promise<DataSource> {
    const db = await createScratchDatabase(SERVER_URL, `vfl_test_${name}_${process.pid}`);
    scratch.push(db);
    urls.set(name, db.url);
    const ds = await openDatabase(db.url, { schema });
    sources.push(ds);
    return ds;
  }

  beforeAll(async () => {
    coordinator = await database('coordinator', 'coordinator');
    for (const partyId of ['bank', 'ecommerce']) logs.set(partyId, { partyId, ds: await database(partyId, 'party') });
    trail = new SignedAuditLog(coordinator, SigningIdentity.generate('coordinator'));
    ({ federation } = await runTwoPartyJob({
      jobId,
      dataRoot: DATA,
      guest: 'breast_hetero_guest.csv',
      host: 'breast_hetero_host.csv',
      hyperparameters: hp,
      audit: (e) => trail.record(jobId, e),
      partyAudit: (partyId, identity) => new SignedAuditLog(logs.get(partyId)!.ds, identity),
    }));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(sources.map((ds) => ds.destroy()));
    for (const db of scratch) await db.drop();
  });

  it('keeps, at each party, every message it sent and received, and signs its log when the job closes', async () => {
    const bank = await new AuditStore(logs.get('bank')!.ds).events(jobId);
    const shop = await new AuditStore(logs.get('ecommerce')!.ds).events(jobId);
    expect(bank[0]).toMatchObject({ step: 'job.prepare', sender: 'bank', receiver: 'coordinator' });
    expect(bank.at(-1)).toMatchObject({ step: 'job.close', detail: { completed: true } });
    // The forward ciphertexts: sent by the feature party, received by the label party, same digests.
    const sent = shop.filter((e) => e.step === 'peer.lr.forward').map((e) => e.messageDigest);
    const received = bank.filter((e) => e.step === 'peer.lr.forward').map((e) => e.messageDigest);
    expect(sent.length).toBeGreaterThan(0);
    expect(received).toEqual(sent);
    expect(shop.find((e) => e.step === 'peer.lr.forward')!.detail).toMatchObject({
      seq: expect.any(Number),
      signature: expect.stringMatching(/^[0-9a-f]{128}$/),
    });
    for (const e of [...bank, ...shop]) expect(Object.keys(e.detail)).not.toContain('values');
    const signed: { n: string }[] = await logs
      .get('bank')!
      .ds.query(`SELECT count(*) AS n FROM audit_checkpoints WHERE job_id = $1`, [jobId]);
    expect(Number(signed[0].n)).toBeGreaterThanOrEqual(1);
  });

  it("finds both parties' logs consistent with the coordinator trail", async () => {
    const check = await crossCheckParties(coordinator, [...logs.values()], { jobIds: [jobId] });
    expect(check.firstMismatch).toBeNull();
    expect(check).toMatchObject({ valid: true, jobs: 1, unreported: 0 });
    for (const p of check.parties) {
      expect(p.events).toBeGreaterThan(20);
      expect(p.checkpoints).toBeGreaterThanOrEqual(1);
    }
  });

  it('catches a coordinator that rewrote its own trail and re-signed it (one changed digest)', async () => {
    // The coordinator's operator holds its signing key: a rewrite verifies on its own, so only the parties' logs can catch it.
    const forged = await database('forged', 'coordinator');
    const rewritten = new SignedAuditLog(forged, SigningIdentity.generate('coordinator'));
    const original = await new AuditStore(coordinator).events(jobId);
    const target = original.findIndex((e) => e.step === 'lr.update' && e.receiver === 'ecommerce');
    for (const [i, e] of original.entries()) {
      const digest = i === target ? 'ff'.repeat(32) : e.messageDigest;
      await rewritten.recordSigned(jobId, {
        step: e.step,
        sender: e.sender,
        receiver: e.receiver,
        messageDigest: digest,
        byteSize: e.byteSize,
        detail: e.detail,
      });
    }
    expect((await rewritten.store.verify(jobId, [rewritten.identity.publicKeyHex])).valid).toBe(true);
    const check = await crossCheckParties(forged, [...logs.values()], { jobIds: [jobId] });
    expect(check.valid).toBe(false);
    expect(check.firstMismatch).toEqual({
      jobId,
      partyId: 'ecommerce',
      reason: expect.stringMatching(
        /^the coordinator's trail records lr\.update coordinator -> ecommerce, digest ffffffffffffffff…, which ecommerce's log does not record as received$/,
      ),
    });
  });

  it('catches a trail whose tail was cut off with its newest signed head, by the head each party countersigned', async () => {
    // The job ends: the coordinator signs its head and both parties countersign it in their own logs.
    const end = await trail.recordSigned(jobId, {
      step: 'job.state',
      sender: 'coordinator',
      detail: { state: 'succeeded' },
    });
    expect(await countersignHead([...federation.channels.values()], end, 'succeeded')).toEqual([]);
    const bank = await new AuditStore(logs.get('bank')!.ds).events(jobId);
    expect(bank.at(-1)).toMatchObject({
      step: 'audit.countersign',
      detail: { seq: end.seq, head: end.hash, state: 'succeeded' },
    });
    expect((await crossCheckParties(coordinator, [...logs.values()], { jobIds: [jobId] })).valid).toBe(true);
    // The coordinator's superuser cuts the last event and the signed head that vouched for it.
    const runner = coordinator.createQueryRunner();
    try {
      await runner.startTransaction();
      for (const table of ['audit_events', 'audit_checkpoints'])
        await runner.query(`ALTER TABLE ${table} DISABLE TRIGGER ${table}_no_update_delete`);
      await runner.query(`DELETE FROM audit_events WHERE job_id = $1 AND seq = $2`, [jobId, end.seq]);
      await runner.query(`DELETE FROM audit_checkpoints WHERE job_id = $1 AND seq = $2`, [jobId, end.seq]);
      for (const table of ['audit_events', 'audit_checkpoints'])
        await runner.query(`ALTER TABLE ${table} ENABLE TRIGGER ${table}_no_update_delete`);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect((await trail.store.verify(jobId, [trail.identity.publicKeyHex])).valid).toBe(true);
    const check = await crossCheckParties(coordinator, [...logs.values()], { jobIds: [jobId] });
    expect(check.firstMismatch).toEqual({
      jobId,
      partyId: 'bank',
      reason: `bank's log holds a coordinator chain head it countersigned (seq ${end.seq}, succeeded) that the coordinator's trail no longer has: the trail was cut`,
    });
  });

  it("keeps a refused job.prepare in the refusing party's log, and the cross-check knows that party never took the job", async () => {
    const refused = randomUUID();
    const refusedTrail = new SignedAuditLog(coordinator, SigningIdentity.generate('coordinator'));
    // The bank's file passes the data check and is gone by job.prepare, which the bank refuses.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-refused-'));
    for (const f of ['breast_hetero_guest.csv', 'breast_hetero_host.csv'])
      fs.copyFileSync(path.join(DATA, f), path.join(root, f));
    try {
      await expect(
        runTwoPartyJob({
          jobId: refused,
          dataRoot: root,
          guest: 'breast_hetero_guest.csv',
          host: 'breast_hetero_host.csv',
          hyperparameters: hp,
          audit: (e) => {
            if (e.step === 'job.check') fs.rmSync(path.join(root, 'breast_hetero_guest.csv'));
            return refusedTrail.record(refused, e);
          },
          partyAudit: (partyId, identity) => new SignedAuditLog(logs.get(partyId)!.ds, identity),
        }),
      ).rejects.toThrow(/bank failed at job\.prepare/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    const bank = await new AuditStore(logs.get('bank')!.ds).events(refused);
    expect(bank).toEqual([
      expect.objectContaining({ step: 'command.refused', detail: expect.objectContaining({ command: 'job.prepare' }) }),
    ]);
    const check = await crossCheckParties(coordinator, [...logs.values()], { jobIds: [refused] });
    expect(check.firstMismatch).toBeNull();
    expect(check).toMatchObject({ valid: true, jobs: 1, notReached: 1 });
  });

  it("catches a party log rewritten by its own database's superuser", async () => {
    const { ds } = logs.get('bank')!;
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      await runner.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
      await runner.query(`DELETE FROM audit_events WHERE job_id = $1 AND seq = 3`, [jobId]);
      await runner.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    const check = await crossCheckParties(coordinator, [...logs.values()], { jobIds: [jobId] });
    expect(check.firstMismatch).toEqual({
      jobId,
      partyId: 'bank',
      reason: expect.stringMatching(/^bank's own log is broken at seq 4: expected seq 3, found 4/),
    });
  });

  it('refuses to keep a party log in the coordinator database', async () => {
    await expect(openDatabase(urls.get('coordinator')!, { schema: 'party' })).rejects.toThrow(
      /is a coordinator's database: a party keeps its audit log in a database of its own/,
    );
  });
});
