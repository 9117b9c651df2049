/**
 * `vfl keys rotate` (the compiled CLI) on a kept coordinator key, against a scratch database on the
 * PostgreSQL server: the old key hands over to the new one in the ledger, the key file holds the
 * new key (mode 0600), and `vfl audit verify --trust-key <old>` trusts what either key signed.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AuditLedger, SignedAuditLog } from '@vfl/audit';
import { loadOrCreateKeyFile, previousKeys } from '@vfl/crypto';
import { createScratchDatabase, openDatabase } from '@vfl/database';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLI = path.resolve(__dirname, '../dist/scripts/vfl.js');

describe('a kept coordinator key, and vfl keys rotate', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let ds: DataSource;
  let dir: string;
  const vfl = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], {
      env: { ...process.env, DATABASE_URL: scratch.url },
      encoding: 'utf8',
    });

  beforeAll(async () => {
    scratch = await createScratchDatabase(SERVER_URL, `vfl_test_keys_${process.pid}`);
    ds = await openDatabase(scratch.url);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-keys-'));
  });
  afterAll(async () => {
    await ds?.destroy();
    await scratch?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What a coordinator started with the key in `dir` signs for one job. */
  async function runJob(): Promise<string> {
    const key = loadOrCreateKeyFile(dir, 'coordinator').identity;
    const log = new SignedAuditLog(ds, key);
    const id = randomUUID();
    await new AuditLedger(ds).record(
      'job.created',
      await log.recordSigned(id, { step: 'job.created', sender: 'api' }),
      key,
    );
    return id;
  }

  it('creates the key once, private to its owner, and reads the same key on every later start', () => {
    const first = loadOrCreateKeyFile(dir, 'coordinator');
    expect(first.created).toBe(true);
    expect(fs.statSync(first.file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o077).toBe(0);
    const again = loadOrCreateKeyFile(dir, 'coordinator');
    expect(again).toMatchObject({ created: false });
    expect(again.identity.publicKeyHex).toBe(first.identity.publicKeyHex);
  });

  it('refuses a key file that other users may read, naming the fix', () => {
    const open = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-keys-open-'));
    fs.writeFileSync(path.join(open, 'coordinator.key'), 'ab'.repeat(32), { mode: 0o644 });
    fs.chmodSync(path.join(open, 'coordinator.key'), 0o644);
    expect(() => loadOrCreateKeyFile(open, 'coordinator')).toThrow(
      /may be read by other users: make it private \(chmod 600\)/,
    );
    fs.rmSync(open, { recursive: true });
  });

  it('hands the key over with a record the old key signed, and verify trusts the chain from the old root', async () => {
    const root = loadOrCreateKeyFile(dir, 'coordinator').identity.publicKeyHex;
    const before = await runJob();
    const rotated = vfl('keys', 'rotate', '--key-dir', dir);
    expect(rotated.stderr).toBe('');
    expect(rotated.status).toBe(0);
    const next = loadOrCreateKeyFile(dir, 'coordinator');
    expect(next.identity.publicKeyHex).not.toBe(root);
    expect(rotated.stdout).toContain(`VFL_COORDINATOR_KEY=${next.identity.publicKeyHex}`);
    expect(fs.statSync(next.file).mode & 0o777).toBe(0o600);
    expect(previousKeys(dir, 'coordinator')).toEqual([root]);
    const after = await runJob();

    const verify = vfl('audit', 'verify', '--trust-key', root, '--json');
    expect(verify.status).toBe(0);
    const out = JSON.parse(verify.stdout.trim().split('\n').pop()!) as { keys: unknown[]; handovers: unknown[] };
    expect(out.keys).toEqual(
      expect.arrayContaining([
        { publicKey: root, heads: 1, ledgerRows: 2, trusted: 'root' },
        { publicKey: next.identity.publicKeyHex, heads: 1, ledgerRows: 1, trusted: { from: root, ledgerSeq: 1 } },
      ]),
    );
    expect(out.handovers).toEqual([{ ledgerSeq: 1, from: root, to: next.identity.publicKeyHex }]);
    expect(vfl('audit', 'verify', '--job', before, '--trust-key', root).stdout).toContain('trusted root');
    expect(vfl('audit', 'verify', '--job', after, '--trust-key', root).stdout).toContain(
      'trusted through the handover from',
    );
    // Without the handover's root, what the old key signed is untrusted: the new key alone vouches for nothing older.
    expect(vfl('audit', 'verify', '--trust-key', next.identity.publicKeyHex).status).toBe(1);
  });

  it('refuses to rotate when there is no kept key or no database to record the handover in', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vfl-keys-empty-'));
    const run = vfl('keys', 'rotate', '--key-dir', empty);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no coordinator key file in');
    fs.rmSync(empty, { recursive: true });
  });
});
