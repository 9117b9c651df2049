/**
 * `vfl audit verify` (the compiled CLI, as an auditor runs it) against the PostgreSQL server.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AuditStore } from '@vfl/audit';
import { openDatabase } from '@vfl/database';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLI = path.resolve(__dirname, '../dist/scripts/vfl.js');

function vfl(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL }, encoding: 'utf8' });
  const lines = run.stdout.trim().split('\n');
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, last: lines[lines.length - 1] };
}

describe('vfl audit verify', () => {
  let ds: DataSource;
  const good = randomUUID();
  const tampered = randomUUID();

  beforeAll(async () => {
    ds = await openDatabase(DATABASE_URL);
    const store = new AuditStore(ds);
    for (const job of [good, tampered]) {
      for (let i = 0; i < 4; i++)
        await store.record(job, {
          step: 'lr.update',
          sender: 'coordinator',
          receiver: 'bank',
          byteSize: 10 + i,
          detail: { batch: i },
        });
    }
    const runner = ds.createQueryRunner();
    await runner.startTransaction();
    await runner.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
    await runner.query(`DELETE FROM audit_events WHERE job_id = $1 AND seq = 2`, [tampered]);
    await runner.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
    await runner.commitTransaction();
    await runner.release();
  });
  afterAll(() => ds.destroy());

  it('reports a valid job chain with exit status 0 and a JSON last line', () => {
    const run = vfl('audit', 'verify', '--job', good, '--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.last)).toMatchObject({
      valid: true,
      events: 4,
      jobs: 1,
      checkpoints: 0,
      signers: [],
      firstBroken: null,
    });
  });

  it('names the first broken link of a job with a deleted event, with exit status 1', () => {
    const run = vfl('audit', 'verify', '--job', tampered, '--json');
    expect(run.status).toBe(1);
    expect(JSON.parse(run.last)).toMatchObject({
      valid: false,
      firstBroken: { jobId: tampered, seq: 3, reason: 'expected seq 2, found 3 (an event is missing or reordered)' },
    });
  });

  it('reports a job whose trail was deleted as BROKEN with exit status 1, not as a usage error', async () => {
    const gone = randomUUID();
    const store = new AuditStore(ds);
    await store.record(gone, { step: 'job.created', sender: 'api' });
    const runner = ds.createQueryRunner();
    await runner.startTransaction();
    await runner.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
    await runner.query(`DELETE FROM audit_events WHERE job_id = $1`, [gone]);
    await runner.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
    await runner.commitTransaction();
    await runner.release();
    const run = vfl('audit', 'verify', '--job', gone, '--json');
    expect(run.status).toBe(1);
    expect(JSON.parse(run.last)).toMatchObject({
      valid: false,
      firstBroken: { jobId: gone, seq: null, reason: 'no audit event of this job is stored: its trail is missing' },
    });
    expect(vfl('audit', 'verify', '--job', gone).stdout).toContain('audit trail: BROKEN');
  });

  it('prints a human summary without --json', () => {
    const run = vfl('audit', 'verify', '--job', good);
    expect(run.stdout).toContain('audit trail: valid');
    expect(run.stdout).toMatch(/events\s+4/);
  });

  it('refuses a malformed job id and an unknown command with exit status 2', () => {
    expect(vfl('audit', 'verify', '--job', 'nope').stderr).toContain('--job expects a job id (UUID), got "nope"');
    expect(vfl('audit', 'verify', '--job', 'nope').status).toBe(2);
    expect(vfl('job', 'frobnicate').status).toBe(2);
  });

  it('refuses a malformed --party without echoing its password', () => {
    const run = vfl('audit', 'verify', '--party', 'bank:postgres://u:secret@host/db');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--party expects ID=postgres://… (a party's own audit database)");
    expect(run.stderr).not.toContain('secret');
  });
});
