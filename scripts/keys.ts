/**
 * `vfl keys new` prints a fresh key pair; `vfl keys rotate` hands the coordinator's kept signing
 * key over to a new one: the old key signs "rotate to <new public key>" as a row of the audit
 * ledger, then the new key replaces the old in the key file and the old public key is listed as
 * one this coordinator signed with (so its own verification still trusts its earlier trails).
 * Run it with the coordinator stopped; then give the parties the new public key (VFL_COORDINATOR_KEY).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLedger } from '@vfl/audit';
import { loadOrCreateKeyFile, replaceKeyFile, SigningIdentity } from '@vfl/crypto';
import { openDatabase, startEmbeddedPostgres } from '@vfl/database';
import { UsageError } from './cli-usage';

/** The coordinator's key file name under its key directory (apps/coordinator: COORDINATOR_KEY_NAME). */
const KEY_NAME = 'coordinator';

export function keysNew(): number {
  const seed = randomBytes(32).toString('hex');
  console.log(`VFL_SIGNING_KEY=${seed}\nVFL_COORDINATOR_KEY=${SigningIdentity.fromSeedHex('new', seed).publicKeyHex}`);
  return 0;
}

export async function keysRotate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'key-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'pglite-dir': { type: 'string' },
    },
  });
  const dir = path.resolve(values['key-dir'] ?? process.env.VFL_KEY_DIR ?? '.vfl');
  if (!fs.existsSync(path.join(dir, `${KEY_NAME}.key`)))
    throw new UsageError(`no coordinator key file in ${dir}: nothing to rotate (--key-dir names the directory)`);
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  const pgliteDir = values['pglite-dir'];
  if (!url && !pgliteDir)
    throw new UsageError(
      "set DATABASE_URL, --database-url or --pglite-dir to the coordinator's audit database: the handover is recorded there",
    );
  const old = loadOrCreateKeyFile(dir, KEY_NAME).identity;
  const nextSeed = randomBytes(32).toString('hex');
  const next = SigningIdentity.fromSeedHex(KEY_NAME, nextSeed);
  const embedded = url ? undefined : await startEmbeddedPostgres(pgliteDir);
  try {
    const ds = await openDatabase(url ?? embedded!.url, { singleConnection: Boolean(embedded) });
    try {
      const row = await new AuditLedger(ds).rotate(old, next.publicKeyHex);
      replaceKeyFile(dir, KEY_NAME, old, nextSeed);
      console.log(`handed over at ledger row ${row.seq}: ${old.publicKeyHex} -> ${next.publicKeyHex}`);
      console.log(`VFL_COORDINATOR_KEY=${next.publicKeyHex}   (give the parties this key; restart the coordinator)`);
    } finally {
      await ds.destroy();
    }
  } finally {
    await embedded?.stop();
  }
  return 0;
}
