/**
 * The first hour with the compiled CLI: `vfl --help` and `vfl job --help` answer, the bin shim runs
 * the compiled CLI, and `vfl audit verify` with no flags finds the embedded database `npm start`
 * keeps in .vfl/ — through a running coordinator's record, or by opening its directory itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditStore } from '@vfl/audit';
import { openDatabase, removeEndpointRecord, startEmbeddedPostgres, writeEndpointRecord } from '@vfl/database';

const SHIM = path.resolve(__dirname, '../bin/vfl.js');

/** Runs the CLI without blocking this process (whose embedded database it may be talking to). */
function vfl(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SHIM, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('the CLI in the first hour', () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-state-'));
  const env = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, VFL_STATE_DIR: state };
    delete e.DATABASE_URL;
    return e;
  };
  const job = randomUUID();
  afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

  beforeAll(async () => {
    // A coordinator database as `npm start` leaves it in .vfl/pgdata: migrated, one job's trail.
    const db = await startEmbeddedPostgres(path.join(state, 'pgdata'));
    const ds = await openDatabase(db.url, { singleConnection: true });
    const store = new AuditStore(ds);
    for (let i = 0; i < 3; i++) await store.record(job, { step: 'lr.update', sender: 'coordinator', detail: { i } });
    await ds.destroy();
    await db.stop();
  }, 60_000);

  it('answers --help and job --help with exit status 0', () => {
    const help = spawnSync(process.execPath, [SHIM, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('vfl job submit FILE|check FILE|status ID|watch ID');
    const job = spawnSync(process.execPath, [SHIM, 'job', '--help'], { encoding: 'utf8' });
    expect(job.status).toBe(0);
    expect(job.stdout).toContain('check FILE     every party checks its data against the job in FILE');
  });

  it('verifies the embedded database with no flags when no coordinator runs', async () => {
    const run = await vfl(env(), 'audit', 'verify', '--json');
    expect(run.stderr).toContain(`the embedded PostgreSQL in ${path.join(state, 'pgdata')} (no coordinator running)`);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({ valid: true, events: 3, jobs: 1 });
  }, 60_000);

  it("verifies through a running coordinator's record of its embedded database", async () => {
    // This process plays the coordinator: it serves the directory and records where.
    const dir = path.join(state, 'pgdata');
    const db = await startEmbeddedPostgres(dir);
    writeEndpointRecord(dir, db.url);
    try {
      expect(fs.statSync(path.join(state, 'database.json')).mode & 0o077).toBe(0);
      const run = await vfl(env(), 'audit', 'verify', '--job', job, '--json');
      expect(run.stderr).toContain("the running coordinator's embedded PostgreSQL");
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({ valid: true, events: 3 });
    } finally {
      removeEndpointRecord(dir);
      await db.stop();
    }
    expect(fs.existsSync(path.join(state, 'database.json'))).toBe(false);
  }, 60_000);

  it('says what to set when there is no database at all', async () => {
    const run = await vfl({ ...env(), VFL_STATE_DIR: path.join(state, 'nothing-here') }, 'audit', 'verify');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("set DATABASE_URL or --database-url to the coordinator's audit database");
  });
});
